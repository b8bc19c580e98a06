"""The two DNS configurations of the auth integration tests' `vigil` runs
(spf_suite.py, dkim_verify.py, dmarc_eval.py import it from their own
directory)."""
import os

# DNS waits of the `vigil` runs: an answer is waited for up to a minute,
# so that no result depends on how fast the test server answers on a
# loaded machine; a check whose lookup is never answered (TIMEOUT in the
# zone, temperror expected) gets a short wait, which does not change its
# result.
# (stages: only what is cheap to load; the tools run their own check)
ANSWERED = 'stages = { "sanity" }\ndns { timeout = 60000 budget = 60000 }\n'
DEAD = 'stages = { "sanity" }\ndns { timeout = 400 budget = 2000 }\n'


def write_confs(tmp):
    """{'answered': path, 'dead': path} of the two configurations."""
    confs = {}
    for kind, text in (('answered', ANSWERED), ('dead', DEAD)):
        confs[kind] = os.path.join(tmp, 'dns-%s.conf' % kind)
        with open(confs[kind], 'w', encoding='utf-8') as f:
            f.write(text)
    return confs
