#!/usr/bin/python3
"""sa_compare.py — which rules hit each message: vigil against SpamAssassin.

    sa_compare.py [--vigil PATH] [--rules DIR] [--cache DIR] [--jobs N]
                  [--chunk N] [--list N] [--examples N] [--min-agree PCT]
                  [--json FILE] [MBOX-OR-DIR...]

Issue 5 ("Correctness against SpamAssassin"): on a corpus, with
SpamAssassin's stock rules, network tests off and no Bayes, the set of
rules hitting each message must agree with SpamAssassin's own for >= 99 %
of (message, rule) pairs, for every rule type vigil supports.

SpamAssassin side: bench/sa_hits.pl (the Perl API in-process: score set 0,
local tests only, no Bayes, no auto-welcomelist), run over slices of each
mbox (--skip/--max, --chunk messages each) by --jobs processes at once.
Its output and its rule list (type, eval, score, tflags, meta operands) are
cached under --cache (default /tmp/vigil-sa-compare), keyed by the corpus
files, the rule files and sa_hits.pl: a second run reuses them.

vigil side: `vigil rules hits -r DIR MBOX...` (the rules engine only, no
SPF/DKIM/DMARC, like SpamAssassin with network tests off), run afresh, plus
`vigil rules --unsupported` and `vigil rules check` for what vigil knows it
does not do. Both sides run like for like: neither runs a rule whose score
in set 0 is 0 (SpamAssassin 4 does not; `vigil rules hits` without --all
does not either), `__` sub-rules run in both.

Pairs: one per (message, rule) for every rule SpamAssassin defines with a
rule line (a score line alone defines nothing), "__" sub-rules included. A
pair agrees when both engines hit or neither does. Rules are sorted into:
  supported    vigil runs it as SpamAssassin does: the >= 99 % target;
  score 0      neither engine runs it (not counted in either figure);
  eval         eval: rule (Perl code in SpamAssassin) or a feature vigil
               reports as not implemented (eval: rules whose function
               vigil implements, milter/saeval.c, are "supported", in
               the "eval" row);
  net/learn    tflags net or learn (off in score set 0 anyway);
  pseudo-hdr   reads a pseudo-header vigil does not produce
               (X-Spam-Relays-*, ALL-TRUSTED, ...);
  failed       vigil could not compile it (PCRE2 limits);
  not loaded   vigil did not load it (inside "ifplugin" of a plugin vigil
               does not implement, e.g. FreeMail);
  depends      a meta with an operand (at any depth) in one of the
               categories above, or undefined;
and the figure is printed per rule type over the supported rules, then
over all rules. Every disagreeing rule is listed with its counts
(vigil-only, SA-only), its category, and for a supported rule "engine
difference" and the first messages (source:index) where it differs.
Exit 1 when a type's supported agreement is below --min-agree (99).
"""

import argparse
import collections
import concurrent.futures
import glob
import hashlib
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TYPES = ("header", "mimeheader", "body", "rawbody", "full", "uri", "meta")
CATEGORIES = ("supported", "eval", "net/learn", "pseudo-hdr", "failed",
              "not loaded", "depends")


def parse_args():
    top = os.path.dirname(HERE)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mbox", nargs="*",
                    help="mbox files or directories of *.mbox (default: ../shared/corpus/*.mbox, else "
                    "/work/shared/corpus/*.mbox)")
    ap.add_argument("--vigil", default=os.path.join(top, "milter", "vigil"),
                    help="the vigil binary (default: milter/vigil)")
    ap.add_argument("--rules", default="/usr/share/spamassassin",
                    help="rule directory both engines load")
    ap.add_argument("--cache", default="/tmp/vigil-sa-compare",
                    help="where SpamAssassin's results are kept")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="SpamAssassin processes at once")
    ap.add_argument("--chunk", type=int, default=250,
                    help="messages per SpamAssassin process")
    ap.add_argument("--list", type=int, default=60,
                    help="disagreeing rules listed (0: all)")
    ap.add_argument("--examples", type=int, default=3,
                    help="messages shown per engine difference")
    ap.add_argument("--min-agree", type=float, default=99.0,
                    help="exit 1 when a type is below this (percent)")
    ap.add_argument("--json", metavar="FILE",
                    help="also write the per-type figures and the "
                    "disagreements as JSON")
    args = ap.parse_args()
    if not args.mbox:
        for corpus in (os.path.join(top, "..", "shared", "corpus"),
                       "/work/shared/corpus"):
            args.mbox = sorted(glob.glob(os.path.join(corpus, "*.mbox")))
            if args.mbox:
                break
    if not args.mbox:
        ap.error("no mbox given")
    missing = [m for m in args.mbox if not os.path.exists(m)]
    if missing:
        ap.error("no such corpus: " + ", ".join(missing))
    files = []
    for m in args.mbox:  # a directory stands for its *.mbox files
        files += (sorted(glob.glob(os.path.join(m, "*.mbox")))
                  if os.path.isdir(m) else [m])
    args.mbox = [os.path.abspath(m) for m in files]
    return args


def file_key(paths):
    """A digest of names, sizes and modification times (a directory: its
    files)."""
    h = hashlib.sha256()
    for p in paths:
        files = [p]
        if os.path.isdir(p):
            files = sorted(os.path.join(p, f) for f in os.listdir(p))
        for f in files:
            st = os.stat(f)
            h.update(("%s\0%d\0%d\n" % (f, st.st_size, st.st_mtime_ns))
                     .encode())
    return h.hexdigest()[:16]


def read_jsonl(path):
    out = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            out[(d["source"], d["index"])] = set(d.get("hits", []))
    return out


def run_vigil(args):
    """vigil's hits per message, and what vigil says it does not do."""
    proc = subprocess.run([args.vigil, "rules", "hits", "-r", args.rules]
                          + args.mbox, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("vigil rules hits failed (%d): %s"
                 % (proc.returncode, proc.stderr[-2000:]))
    hits = {}
    for line in proc.stdout.splitlines():
        d = json.loads(line)
        hits[(d["source"], d["index"])] = set(d.get("hits", []))
    notes = collections.defaultdict(set)
    unsup = subprocess.run([args.vigil, "rules", "--unsupported", args.rules],
                           capture_output=True, text=True)
    for line in unsup.stdout.splitlines() + unsup.stderr.splitlines():
        # eval: functions vigil implements (milter/saeval.c) load their
        # plugin's ifplugin blocks; their rules are not listed above.
        if line.startswith("plugins read in part"):
            VIGIL_PLUGINS.update(line.split(":", 1)[1].split())
            continue
        m = re.match(r"^\S+:\d+: (?:(?:rule|meta) )?([A-Za-z0-9_]+): (.*)$",
                     line)
        if not m:
            continue
        name, why = m.groups()
        if "pseudo-header" in why:
            notes[name].add("pseudo-hdr")
        elif re.search(r"tflags (net|learn)", why):
            notes[name].add("net/learn")
        elif "not implemented" in why:
            notes[name].add("eval")
        elif why.startswith(("depends on", "unknown rule")):
            notes[name].add("depends")
            m = re.match(r"(?:unknown|depends on undefined) rule "
                         r"([A-Za-z0-9_]+)", why)
            if m:
                notes[m.group(1)].add("missing")
    check = subprocess.run([args.vigil, "rules", "check", args.rules],
                           capture_output=True, text=True)
    for line in check.stdout.splitlines() + check.stderr.splitlines():
        m = re.search(r": error: rule ([A-Za-z0-9_]+):", line)
        if m:
            notes[m.group(1)].add("failed")
    return hits, notes


# The plugins whose "ifplugin" blocks vigil loads (milter/rules.c,
# plugin_loaded()); rules inside the blocks of other plugins (FreeMail,
# HTMLEval, ...) are not loaded by vigil, while SpamAssassin loads them.
VIGIL_PLUGINS = {"Check", "MIMEHeader", "ReplaceTags", "SPF", "DKIM",
                 "DMARC", "Dmarc"}
RULE_KW = re.compile(r"^\s*(?:header|mimeheader|body|rawbody|full|uri|meta)"
                     r"\s+([A-Za-z0-9_]+)\s")
PLUGIN_COND = re.compile(r"^\s*(?:ifplugin\s+|if\s+(?:plugin|can)\s*\(\s*)"
                         r"Mail::SpamAssassin::Plugin::(\w+)")


def plugin_rules(rules_dir):
    """Rule name -> plugin, for rules defined only inside the "ifplugin"
    (or "if plugin(...)", "if can(...Plugin::X::...)") block of a plugin
    vigil does not implement."""
    files = [rules_dir]
    if os.path.isdir(rules_dir):
        files = sorted(glob.glob(os.path.join(rules_dir, "*.cf")))
    out = {}
    for path in files:
        stack = []  # per open conditional: the plugin it needs, or None
        with open(path, encoding="latin-1") as fh:
            for line in fh:
                word = line.split(None, 1)[0] if line.strip() else ""
                if word in ("if", "ifplugin"):
                    m = PLUGIN_COND.match(line)
                    need = m.group(1) if m else None
                    stack.append(need if need not in VIGIL_PLUGINS else None)
                elif word == "else" and stack:
                    stack[-1] = None
                elif word == "endif" and stack:
                    stack.pop()
                else:
                    m = RULE_KW.match(line)
                    need = [x for x in stack if x]
                    if m and need:
                        out.setdefault(m.group(1), need[-1])
    return out


def count_messages(hits):
    n = collections.Counter()
    for source, index in hits:
        n[source] = max(n[source], index + 1)
    return n


def sa_slice(args, key, mbox, skip, count):
    base = "sa-%s-%s-%d-%d.jsonl" % (key, os.path.basename(mbox), skip,
                                      count)
    out = os.path.join(args.cache, base)
    if os.path.exists(out):
        return out, None
    part = out + ".part"
    with open(part, "w") as fh:
        proc = subprocess.run(
            ["perl", os.path.join(HERE, "sa_hits.pl"), "--rules", args.rules,
             "--skip", str(skip), "--max", str(count), mbox],
            stdout=fh, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        return None, "%s [%d+%d]: %s" % (mbox, skip, count, proc.stderr)
    os.rename(part, out)
    return out, proc.stderr.strip()


def run_sa(args, counts):
    """SpamAssassin's hits per message and its rule list, from the cache or
    computed by --jobs sa_hits.pl processes over --chunk slices."""
    os.makedirs(args.cache, exist_ok=True)
    script = os.path.join(HERE, "sa_hits.pl")
    key = file_key([args.rules, script])
    rules_json = os.path.join(args.cache, "rules-%s.json" % key)
    if not os.path.exists(rules_json):
        empty = os.path.join(args.cache, "empty.eml")
        with open(empty, "w") as fh:
            fh.write("From: a@example.com\nSubject: x\n\nx\n")
        subprocess.run(["perl", script, "--quiet", "--rules", args.rules,
                        "--rules-json", rules_json + ".part", empty],
                       check=True, stdout=subprocess.DEVNULL)
        os.rename(rules_json + ".part", rules_json)
    with open(rules_json, encoding="utf-8") as fh:
        rules = json.load(fh)
    jobs = []
    for mbox in args.mbox:
        mkey = file_key([mbox]) + key[:8]
        for skip in range(0, counts.get(mbox, 0), args.chunk):
            jobs.append((mbox, skip, min(args.chunk, counts[mbox] - skip),
                         mkey))
    hits = {}
    todo = sum(1 for j in jobs if not os.path.exists(os.path.join(
        args.cache, "sa-%s-%s-%d-%d.jsonl" % (j[3], os.path.basename(j[0]),
                                             j[1], j[2]))))
    if todo:
        print("SpamAssassin: %d of %d slices to run, %d at a time"
              % (todo, len(jobs), args.jobs), file=sys.stderr)
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        futs = [pool.submit(sa_slice, args, k, m, s, c)
                for m, s, c, k in jobs]
        for fut in futs:
            out, note = fut.result()
            if out is None:
                sys.exit("sa_hits.pl failed: " + note)
            if note:
                print("  " + note, file=sys.stderr)
            hits.update(read_jsonl(out))
    return hits, rules


def classify(rules, notes, unloaded):
    """Each rule SpamAssassin defines: (type, category)."""
    own = {}
    for name, r in rules.items():
        if r["type"] not in TYPES and not r["eval"]:
            continue  # a score or describe line without a rule
        if r["score"] == 0 and not name.startswith("__"):
            own[name] = "score 0"
        elif "eval" in notes.get(name, ()) or (r["eval"] and
                                               name in unloaded):
            own[name] = "eval"  # vigil says it is not implemented
        elif re.search(r"\b(net|learn)\b", r["tflags"]):
            own[name] = "net/learn"
        elif "pseudo-hdr" in notes.get(name, ()):
            own[name] = "pseudo-hdr"
        elif "failed" in notes.get(name, ()):
            own[name] = "failed"
        elif "missing" in notes.get(name, ()) or name in unloaded:
            own[name] = "not loaded"
        else:
            own[name] = "supported"
    # A meta is "depends" when any operand, at any depth, is not supported
    # (or undefined, or a score-0 rule neither engine runs).
    memo = {}

    def meta_ok(name, stack=()):
        if name in memo:
            return memo[name]
        if name not in own:
            return False
        if own[name] not in ("supported", "score 0"):
            return False
        ok = True
        r = rules[name]
        if r["type"] == "meta" and name not in stack:
            for dep in r.get("deps", []):
                if not meta_ok(dep, stack + (name,)):
                    ok = False
        if "depends" in notes.get(name, ()):
            ok = False
        memo[name] = ok
        return ok

    for name in own:
        if (own[name] == "supported" and rules[name]["type"] == "meta"
                and not meta_ok(name)):
            own[name] = "depends"
    return {n: ("eval" if rules[n]["eval"] else rules[n]["type"], c)
            for n, c in own.items()}


def compare(args, vhits, shits, kinds):
    msgs = sorted(set(vhits) & set(shits))
    missing = len(set(vhits) ^ set(shits))
    diff = collections.defaultdict(lambda: [0, 0, []])
    hit_pairs = collections.Counter()
    for m in msgs:
        v, s = vhits[m], shits[m]
        for name in (v | s):
            if name not in kinds:
                continue
            if name in v and name in s:
                hit_pairs[name] += 1
                continue
            d = diff[name]
            d[0 if name in v else 1] += 1
            if len(d[2]) < args.examples:
                d[2].append("%s:%d%s" % (os.path.basename(m[0]), m[1],
                                         "+" if name in v else "-"))
    return msgs, missing, diff, hit_pairs


def report(args, msgs, missing, kinds, diff, hit_pairs):
    n = len(msgs)
    print("%d messages compared (%d seen by one engine only), rules: %s"
          % (n, missing, args.rules))
    print("pairs = messages x rules; agree = both hit or neither; "
          "hit-agree = both hit / at least one hit")
    table = {}
    for scope in ("supported", "all"):
        print()
        print("%s rules%s" % (scope, " (both engines run them: the target)"
                              if scope == "supported" else
                              " (every rule SpamAssassin defines and runs,"
                              " eval and pseudo-header ones included)"))
        print("%-11s %6s %10s %10s %9s %9s %9s"
              % ("type", "rules", "pairs", "agree", "agree%", "hits",
                 "hit-agree%"))
        tot = [0, 0, 0, 0, 0]
        for t in TYPES + ("eval",):
            names = [k for k, (ty, c) in kinds.items() if ty == t and
                     c != "score 0" and (scope == "all" or c == "supported")]
            if not names:
                continue
            pairs = n * len(names)
            bad = sum(diff[k][0] + diff[k][1] for k in names if k in diff)
            both = sum(hit_pairs[k] for k in names)
            row = [len(names), pairs, pairs - bad, both + bad, both]
            tot = [a + b for a, b in zip(tot, row)]
            print("%-11s %6d %10d %10d %8.3f%% %9d %8.2f%%"
                  % (t, row[0], row[1], row[2], 100.0 * row[2] / pairs,
                     row[3], 100.0 * row[4] / row[3] if row[3] else 100.0))
            table.setdefault(scope, {})[t] = {
                "rules": row[0], "pairs": row[1], "agree": row[2],
                "pct": 100.0 * row[2] / pairs, "hit_pairs": row[3],
                "hit_agree": row[4]}
        if tot[1]:
            print("%-11s %6d %10d %10d %8.3f%% %9d %8.2f%%"
                  % ("total", tot[0], tot[1], tot[2], 100.0 * tot[2] / tot[1],
                     tot[3], 100.0 * tot[4] / tot[3] if tot[3] else 100.0))
    skipped = collections.Counter(c for _, c in kinds.values())
    print()
    print("rules per category: " + ", ".join(
        "%s %d" % (c, skipped[c]) for c in CATEGORIES + ("score 0",)))
    print()
    rows = sorted(((d[0] + d[1], k) for k, d in diff.items()
                   if kinds[k][1] != "score 0"), reverse=True)
    print("%d rules disagree on at least one message%s:" % (
        len(rows), "" if not args.list or len(rows) <= args.list
        else " (first %d; --list 0 for all)" % args.list))
    print("%-30s %-10s %6s %6s %6s  %s" % ("rule", "type", "vigil", "SA",
                                           "both", "reason"))
    out = []
    for i, (_, k) in enumerate(rows):
        ty, cat = kinds[k]
        d = diff[k]
        reason = "engine difference" if cat == "supported" else cat
        out.append({"rule": k, "type": ty, "vigil_only": d[0],
                    "sa_only": d[1], "both": hit_pairs[k], "reason": reason,
                    "examples": d[2]})
        if args.list and i >= args.list:
            continue
        print("%-30s %-10s %6d %6d %6d  %s%s" % (
            k, ty, d[0], d[1], hit_pairs[k], reason,
            "  " + " ".join(d[2]) if cat == "supported" else ""))
    print("(vigil/SA: messages only that engine hits; examples: "
          "mbox:index, + vigil only, - SpamAssassin only)")
    fail = [t for t, r in table.get("supported", {}).items()
            if r["pct"] < args.min_agree]
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"messages": n, "table": table, "disagreements": out},
                      fh, indent=1)
    return 1 if fail else 0


def main():
    args = parse_args()
    vhits, notes = run_vigil(args)
    shits, rules = run_sa(args, count_messages(vhits))
    kinds = classify(rules, notes, plugin_rules(args.rules))
    msgs, missing, diff, hit_pairs = compare(args, vhits, shits, kinds)
    return report(args, msgs, missing, kinds, diff, hit_pairs)


if __name__ == "__main__":
    sys.exit(main())
