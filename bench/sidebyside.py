#!/usr/bin/python3
"""sidebyside.py: the helper of bench/sidebyside.sh (issue 7). Not a test.

    sidebyside.py split OUTDIR [--max N] [--labels FILE] SOURCE...
        Writes every message of the sources as one file under OUTDIR/ham,
        OUTDIR/spam and writes OUTDIR/list.tsv (path, label, origin). A
        SOURCE is an mbox file or a directory of message files (each an
        mbox or one message, recursively, dot entries skipped; a file
        whose first line is no header field, such as the SpamAssassin
        corpus' "cmds", is skipped with a warning); its label comes from
        the words of its name ("spam", "spam_2", "easy_ham",
        "ham-hard.mbox"); a directory whose name has neither stands for
        its entries that have one, and anything else is skipped with a
        warning. --labels FILE adds the files and directories it lists,
        one "PATH LABEL" or "LABEL PATH" (TREC's index) a line, spam/ham
        or 1/0, relative paths from the current directory, else from
        FILE's. --max N keeps at most N messages in all, taken evenly
        from every source (every k-th message), so that the ham/spam
        proportion stays. Splitting follows vigil's mbox reader (mboxrd):
        a message ends at a "From " line that follows an empty line; that
        empty line is not part of the message; lines matching ^>+From
        lose one '>'.

    sidebyside.py run TOOL CONC LIST --pids PID[,PID] -- COMMAND...
        Runs one measurement and prints one JSON summary line on stdout.
        TOOL says how COMMAND is driven and read:
          vigil   COMMAND is a `vigil scan ... --format jsonl` over the
                  files (in-process or --milter); per-message ms, score and
                  action come from its output.
          spamc   COMMAND is a spamc command line (-c); it is run once per
                  message, message on stdin, CONC at a time; latency is the
                  wall time of each spamc.
          rspamc  COMMAND is an rspamc command line (--compact -j -n 1);
                  CONC of them run at once, each with every CONC-th
                  message file appended; latency is rspamd's time_real
                  per message.
        While it runs, the RSS (and PSS) of the process trees rooted at
        --pids (or at COMMAND itself with --pids self) is sampled every
        50 ms; the peak of the sum is reported.

    sidebyside.py listeners PID
        Lists the internet sockets that the process tree rooted at PID
        listens on (TCP LISTEN, unconnected UDP) and exits 1 if any of them
        is bound to an address other than loopback.

    sidebyside.py tree PID
        Prints the PIDs of the process tree rooted at PID, one a line.

    sidebyside.py why SA_CACHE VIGIL_JSONL [RULES_DIR]
        Why vigil flags fewer spam than SpamAssassin: SA_CACHE is the
        cache of bench/sa_compare.py (SpamAssassin's own hits per message,
        sa_hits.pl: score set 0, no network, no Bayes; rules-*.json gives
        each rule's type, eval flag, score and meta operands), VIGIL_JSONL
        the output of `vigil scan -c CONF --format jsonl` over the same
        mbox files (rules stage, score set 0). For the spam that
        SpamAssassin flags and vigil does not, the score points of the
        rules SpamAssassin hit and vigil did not are summed by kind (eval:
        Perl code; pseudo-hdr: a header test on X-Spam-Relays-* and the
        like; meta on either; regex: a rule vigil runs but did not hit).

    sidebyside.py table RESULTS.jsonl
        Markdown tables of the summary lines; a tool measured in several
        rounds at one concurrency gets the round of median messages/s.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

FROM_RE = re.compile(rb"^>+From ")


def die(msg):
    sys.stderr.write("sidebyside: error: %s\n" % msg)
    sys.exit(1)


def say(msg):
    sys.stderr.write("sidebyside: %s\n" % msg)


# ---------------------------------------------------------------- split

def mbox_messages(path):
    """Yields each message of an mbox as bytes (mboxrd unquoted)."""
    cur = None
    prev_empty = True
    with open(path, "rb") as f:
        for line in f:
            if line.startswith(b"From ") and prev_empty:
                if cur is not None:
                    # the empty line before the separator is not ours
                    if cur and cur[-1] in (b"\n", b"\r\n"):
                        cur.pop()
                    yield b"".join(cur)
                cur = []
                prev_empty = False
                continue
            prev_empty = line in (b"\n", b"\r\n")
            if cur is None:
                continue
            if FROM_RE.match(line):
                line = line[1:]
            cur.append(line)
    if cur is not None:
        yield b"".join(cur)


LABEL_WORDS = {"spam": "spam", "ham": "ham", "1": "spam", "0": "ham"}


def label_of(path):
    """spam or ham from a name's words ("spam.mbox", "spam_2", "easy_ham",
    "ham-hard.mbox"; not "graham"), else None."""
    words = re.split(r"[^a-z]+", os.path.basename(path.rstrip("/")).lower())
    if "spam" in words:
        return "spam"
    if "ham" in words:
        return "ham"
    return None


HEADER_RE = re.compile(rb"^[!-9;-~]+[ \t]*:")


def file_kind(path):
    """From its first line: "mbox" (a From_ line), "message" (a header
    field), else None."""
    with open(path, "rb") as f:
        first = f.readline(1000)
    if first.startswith(b"From "):
        return "mbox"
    return "message" if HEADER_RE.match(first) else None


def dir_files(top):
    """The regular files under top, recursively, in name order; dot
    entries skipped."""
    out = []
    for d, dirs, names in os.walk(top):
        dirs[:] = sorted(x for x in dirs if not x.startswith("."))
        out.extend(os.path.join(d, n) for n in sorted(names)
                   if not n.startswith(".") and
                   os.path.isfile(os.path.join(d, n)))
    return out


def read_labels(path):
    """(message path, label) from a labels file: "PATH LABEL" or "LABEL
    PATH" (TREC's index), spam/ham or 1/0, "#" comments; a relative path
    is taken from the current directory, else from the file's."""
    base = os.path.dirname(os.path.abspath(path))
    out = []
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for no, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            first, rest = (re.split(r"\s+", line, 1) + [""])[:2]
            head, last = (re.split(r"\s+(?=\S+$)", line) + [""])[:2]
            if first.lower() in LABEL_WORDS and rest:
                lab, p = LABEL_WORDS[first.lower()], rest
            elif last.lower() in LABEL_WORDS:
                lab, p = LABEL_WORDS[last.lower()], head
            else:
                die("%s:%d: expected \"PATH spam|ham\" or \"spam|ham PATH\"" %
                    (path, no))
            # as vigil scan --labels: from the current directory, else
            # from the file's
            if not os.path.exists(p):
                p = os.path.join(base, p)
            if not os.path.exists(p):
                die("%s:%d: no such file or directory: %s" % (path, no, p))
            out.append((p, lab))
    return out


def sources_of(args, labels):
    """[(name, label, [(path, mbox?)])]: each mbox file, each directory of
    message files (label from the name of the path given; a directory
    whose name has neither stands for its entries that have one), or the
    labelled paths."""
    out = []

    def add(name, lab, paths):
        items = []
        for p in paths:
            kind = file_kind(p)
            if kind is None:
                say("%s: not a message (first line not a header), skipped" % p)
            else:
                items.append((p, kind == "mbox"))
        if items:
            out.append((name, lab, items))
    def source(p, top):
        lab = label_of(p)
        if lab is None and top and os.path.isdir(p):
            kids = [os.path.join(p, k) for k in sorted(os.listdir(p))
                    if not k.startswith(".") and label_of(k)]
            for k in kids:
                source(k, False)
            if kids:
                return
        if lab is None:
            say("%s: neither ham nor spam in its name, skipped" % p)
        elif os.path.isdir(p):
            add(p, lab, dir_files(p))
        else:
            add(p, lab, [p])
    for p in args:
        source(p, True)
    for lab in ("ham", "spam"):
        paths = []
        for p, l in labels:
            if l == lab:
                paths.extend(dir_files(p) if os.path.isdir(p) else [p])
        if paths:
            add("labelled-" + lab, lab, paths)
    return out


def source_messages(items):
    """Yields (origin, message) for each message of a source's files, in
    order: origin is the file, "FILE#N" for an mbox's message N."""
    for p, mbox in items:
        if mbox:
            for i, msg in enumerate(mbox_messages(p)):
                yield "%s#%d" % (p, i), msg
        else:
            with open(p, "rb") as f:
                yield p, f.read()


def source_count(items):
    """How many messages source_messages() yields, without reading the
    message files."""
    return sum(sum(1 for _ in mbox_messages(p)) if mbox else 1
               for p, mbox in items)


def cmd_split(args):
    if not args:
        die("split OUTDIR [--max N] [--labels FILE] SOURCE...")
    out, args = args[0], args[1:]
    limit = None
    labels = []
    while len(args) >= 2 and args[0] in ("--max", "--labels"):
        if args[0] == "--max":
            limit = int(args[1])
        else:
            labels = read_labels(args[1])
        args = args[2:]
    srcs = []
    for name, lab, items in sources_of(args, labels):
        srcs.append((name, lab, items, source_count(items)))
    total = sum(n for _, _, _, n in srcs)
    if total == 0:
        die("split: no messages")
    step = 1.0
    if limit and limit < total:
        step = total / float(limit)
    for lab in ("ham", "spam"):
        os.makedirs(os.path.join(out, lab), exist_ok=True)
    rows, stems = [], set()
    for name, lab, items, n in srcs:
        base = stem = os.path.splitext(os.path.basename(name.rstrip("/")))[0]
        dup = 2
        while stem in stems:           # two sources of one name
            stem = "%s-%d" % (base, dup)
            dup += 1
        stems.add(stem)
        want = set(int(k * step) for k in range(int(n / step + 0.5))) \
            if step > 1 else None
        for i, (origin, msg) in enumerate(source_messages(items)):
            if want is not None and i not in want:
                continue
            fname = os.path.join(out, lab, "%s-%05d.eml" % (stem, i))
            with open(fname, "wb") as f:
                f.write(msg)
            rows.append((os.path.abspath(fname), lab, origin))
    rows.sort()
    with open(os.path.join(out, "list.tsv"), "w") as f:
        for r in rows:
            f.write("\t".join(r) + "\n")
    counts = {}
    for _, lab, _ in rows:
        counts[lab] = counts.get(lab, 0) + 1
    say("split %d messages into %s (%s)" % (
        len(rows), out, ", ".join("%s %d" % kv for kv in sorted(counts.items()))))


# ---------------------------------------------------------------- memory

def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(roots):
    kids = children_map()
    seen, todo = [], list(roots)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.append(p)
        todo.extend(kids.get(p, []))
    return seen


def mem_of(pid):
    rss = pss = 0
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


class Sampler(threading.Thread):
    def __init__(self, roots):
        super().__init__(daemon=True)
        self.roots = roots
        self.peak_rss = self.peak_pss = 0
        self.stop = threading.Event()

    def sample(self):
        roots = self.roots() if callable(self.roots) else self.roots
        if not roots:
            return
        pids = tree(roots)
        rss = pss = 0
        for p in pids:
            r, s = mem_of(p)
            rss += r
            pss += s
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, pss)

    def run(self):
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(0.05)
        self.sample()


# ---------------------------------------------------------------- run

def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(-(-p * len(v) // 100)) - 1))
    return v[k]


def read_list(path):
    rows = []
    with open(path) as f:
        for line in f:
            p, lab, origin = line.rstrip("\n").split("\t")
            rows.append((p, lab, origin))
    return rows


def vigil_flagged(obj):
    if "flagged" in obj:        # --milter: the verdict vigil scan read
        return bool(obj["flagged"]) or obj.get("action") == "tempfail"
    if "score" in obj:          # in-process: action by score
        return obj.get("action") not in ("accept", "continue", None)
    if obj.get("action") in ("reject", "discard", "quarantine", "tempfail"):
        return True
    for h in obj.get("headers_added") or []:
        if h["name"].lower() == "x-spam-flag" and \
                h["value"].strip().upper() == "YES":
            return True
        if h["name"].lower() == "x-spam-status" and \
                h["value"].lstrip().startswith("Yes"):
            return True
    return False


def run_vigil(cmd, rows, conc):
    labels = {p: lab for p, lab, _ in rows}
    res = []
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    t0 = time.monotonic()
    first = None        # the first answer: the process has loaded its rules
    holder = {}

    def drain_err():
        holder["err"] = proc.stderr.read()
    te = threading.Thread(target=drain_err, daemon=True)
    te.start()
    for line in proc.stdout:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if first is None:
            first = time.monotonic() - t0
        src = obj.get("source")
        err = obj.get("error") or obj.get("action") == "error"
        res.append((labels.get(os.path.abspath(src)) if src else None,
                    None if err else vigil_flagged(obj), obj.get("ms")))
    rc = proc.wait()
    wall = time.monotonic() - t0
    te.join()
    if rc not in (0, 1):
        sys.stderr.write(holder.get("err", b"").decode(errors="replace")[-2000:])
        die("%s exited with %d" % (cmd[0], rc))
    return res, wall, first


def run_spamc(cmd, rows, conc):
    def one(row):
        path, lab, _ = row
        with open(path, "rb") as f:
            t = time.monotonic()
            r = subprocess.run(cmd, stdin=f, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
            ms = (time.monotonic() - t) * 1000.0
        out = r.stdout.decode(errors="replace").strip()
        m = re.match(r"^(-?[0-9.]+)/(-?[0-9.]+)$", out)
        if r.returncode not in (0, 1) or not m:
            return (lab, None, None)
        return (lab, float(m.group(1)) >= float(m.group(2)), ms)
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=conc) as ex:
        res = list(ex.map(one, rows))
    return res, time.monotonic() - t0, None


RSPAMD_FLAGGED = ("reject", "add header", "rewrite subject")


def run_rspamc(cmd, rows, conc):
    # One rspamc process per unit of concurrency, each over every conc-th
    # file: a single rspamc with -n 2 kept one request in flight at a time
    # here (465 msg/s with -n 1, 459 with -n 2, 818 with two processes).
    # Their output goes to files: a pipe not read at once would stop
    # one rspamc while another is being read.
    # (No more processes than files: without one, rspamc reads stdin.)
    labels = {p: lab for p, lab, _ in rows}
    shares = [rows[k::conc] for k in range(conc) if rows[k::conc]]
    files = [(tempfile.TemporaryFile(), tempfile.TemporaryFile())
             for _ in shares]
    t0 = time.monotonic()
    procs = [subprocess.Popen(cmd + [p for p, _, _ in share],
                              stdout=out, stderr=err, stdin=subprocess.DEVNULL)
             for share, (out, err) in zip(shares, files)]
    rcs = [p.wait() for p in procs]
    wall = time.monotonic() - t0
    outs = []
    for (out, err), rc in zip(files, rcs):
        out.seek(0)
        err.seek(0)
        outs.append((out.read(), err.read(), rc))
        out.close()
        err.close()
    res, seen = [], set()
    for out, _, _ in outs:
        for line in out.splitlines():
            line = line.strip()
            if not line.startswith(b"{"):
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            fn = obj.get("filename")
            if fn is None or fn in seen:
                continue
            seen.add(fn)
            ok = "action" in obj and "error" not in obj
            res.append((labels.get(os.path.abspath(fn)),
                        obj["action"] in RSPAMD_FLAGGED if ok else None,
                        obj.get("time_real", 0) * 1000.0 if ok else None))
    for p, lab, _ in rows:          # no answer at all: an error
        if p not in seen:
            res.append((lab, None, None))
    for _, err, rc in outs:
        if rc != 0 and not seen:
            sys.stderr.write(err.decode(errors="replace")[-2000:])
            die("rspamc exited with %d" % rc)
    return res, wall, None


def cmd_run(args):
    if len(args) < 6 or "--" not in args:
        die("run TOOL CONC LIST --pids PIDS -- COMMAND...")
    sep = args.index("--")
    head, cmd = args[:sep], args[sep + 1:]
    tool, conc, listfile = head[0], int(head[1]), head[2]
    pids = head[head.index("--pids") + 1] if "--pids" in head else "self"
    name = head[head.index("--name") + 1] if "--name" in head else tool
    rows = read_list(listfile)
    driver = {"vigil": run_vigil, "spamc": run_spamc,
              "rspamc": run_rspamc}.get(tool)
    if driver is None:
        die("unknown tool %s" % tool)
    if pids == "self":
        # the sampler follows our own children (the vigil scan process)
        me = os.getpid()
        roots = lambda: children_map().get(me, [])
    else:
        roots = [int(p) for p in pids.split(",") if p]
    sampler = Sampler(roots)
    sampler.start()
    res, wall, first = driver(cmd, rows, conc)
    sampler.stop.set()
    sampler.join()
    ok = [r for r in res if r[1] is not None]
    lat = [r[2] for r in ok if r[2] is not None]
    tp = sum(1 for lab, fl, _ in ok if lab == "spam" and fl)
    fn = sum(1 for lab, fl, _ in ok if lab == "spam" and not fl)
    fp = sum(1 for lab, fl, _ in ok if lab == "ham" and fl)
    tn = sum(1 for lab, fl, _ in ok if lab == "ham" and not fl)
    summary = {
        "name": name, "conc": conc, "messages": len(res),
        "errors": len(res) - len(ok), "wall_s": round(wall, 3),
        "msgs_per_s": round(len(res) / wall, 1) if wall > 0 else None,
        # a process that loads its rules first (vigil scan): its rate
        # from its first answer on, as the daemons' (started before)
        "start_s": round(first, 3) if first is not None else None,
        "steady_msgs_per_s": (round((len(res) - 1) / (wall - first), 1)
                              if first is not None and wall > first
                              and len(res) > 1 else None),
        "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99),
        "peak_rss_kb": sampler.peak_rss, "peak_pss_kb": sampler.peak_pss,
        "tp": tp, "fn": fn, "fp": fp, "tn": tn,
        "recall": round(100.0 * tp / (tp + fn), 2) if tp + fn else None,
        "ham_fp": round(100.0 * fp / (fp + tn), 2) if fp + tn else None,
        "precision": round(100.0 * tp / (tp + fp), 2) if tp + fp else None,
    }
    print(json.dumps(summary), flush=True)
    say("%s concurrency %d: %d messages (%d errors) in %.2f s, %s msg/s%s, "
        "p50 %s ms, p99 %s ms, peak RSS %.1f MiB, recall %s%%, ham FP %s%%"
        % (name, conc, len(res), summary["errors"], wall,
           summary["msgs_per_s"],
           "" if first is None else " (%s after its start of %.2f s)"
           % (summary["steady_msgs_per_s"], first),
           fmt(summary["p50_ms"]),
           fmt(summary["p99_ms"]), sampler.peak_rss / 1024.0,
           summary["recall"], summary["ham_fp"]))


def fmt(v, nd=2):
    if v is None:
        return "n/a"
    return ("%%.%df" % nd) % v



# ---------------------------------------------------------------- sockets

def socket_inodes(pids):
    inodes = set()
    for p in pids:
        try:
            fds = os.listdir("/proc/%d/fd" % p)
        except OSError:
            continue
        for fd in fds:
            try:
                t = os.readlink("/proc/%d/fd/%s" % (p, fd))
            except OSError:
                continue
            if t.startswith("socket:["):
                inodes.add(t[8:-1])
    return inodes


def hex_addr(h, v6):
    """/proc/net address (host byte order words) -> (text, loopback?)"""
    addr, port = h.split(":")
    raw = bytes.fromhex(addr)
    # each 32-bit word is in host (little-endian) order
    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    port = int(port, 16)
    if not v6:
        text = ".".join(str(b) for b in raw)
        return "%s:%d" % (text, port), raw[0] == 127
    import ipaddress
    ip = ipaddress.IPv6Address(raw)
    loop = ip.is_loopback or (ip.ipv4_mapped is not None and
                              ip.ipv4_mapped.is_loopback)
    return "[%s]:%d" % (ip, port), loop


def cmd_listeners(args):
    pids = tree([int(args[0])])
    inodes = socket_inodes(pids)
    bad = 0
    for proto, v6 in (("tcp", False), ("tcp6", True), ("udp", False),
                      ("udp6", True)):
        try:
            with open("/proc/net/" + proto) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fl = line.split()
            local, remote, st, inode = fl[1], fl[2], fl[3], fl[9]
            if inode not in inodes:
                continue
            if proto.startswith("tcp") and st != "0A":      # LISTEN
                continue
            if proto.startswith("udp") and \
                    int(remote.split(":")[1], 16) != 0:     # connected
                continue
            text, loop = hex_addr(local, v6)
            print("%s %s%s" % (proto, text, "" if loop else " NOT LOOPBACK"))
            if not loop:
                bad += 1
    return 1 if bad else 0


# ---------------------------------------------------------------- why

PSEUDO_RE = re.compile(r"\s*header\s+(\S+)\s+(X-Spam-\S+|ALL-TRUSTED|"
                       r"ALL-UNTRUSTED|ALL-INTERNAL|ALL-EXTERNAL)\b")


def cmd_why(args):
    import collections
    import glob
    if len(args) < 2:
        die("why SA_CACHE VIGIL_JSONL [RULES_DIR]")
    cache, vjson = args[0], args[1]
    rdir = args[2] if len(args) > 2 else "/usr/share/spamassassin"
    rfiles = glob.glob(os.path.join(cache, "rules-*.json"))
    if not rfiles:
        die("no rules-*.json in %s (run make bench-sa-agree first)" % cache)
    rules = json.load(open(rfiles[0]))
    pseudo = set()
    for f in glob.glob(os.path.join(rdir, "*.cf")):
        with open(f, encoding="latin-1") as fh:
            for line in fh:
                m = PSEUDO_RE.match(line)
                if m:
                    pseudo.add(m.group(1))

    def kind(n, seen):
        r = rules.get(n)
        if r is None:
            return "undefined"
        if r.get("eval"):
            return "eval"
        if n in pseudo:
            return "pseudo-hdr"
        if r["type"] == "meta":
            for d in r.get("deps", []):
                if d not in seen:
                    seen.add(d)
                    k = kind(d, seen)
                    if k != "regex":
                        return k if k.startswith("meta") else "meta on " + k
        return "regex"

    def points(hits):
        return sum(rules.get(n, {}).get("score", 0) for n in hits
                   if not n.startswith("__"))
    sa = {}
    for f in glob.glob(os.path.join(cache, "sa-*.jsonl")):
        with open(f) as fh:
            for line in fh:
                o = json.loads(line)
                sa[(os.path.basename(o["source"]), o["index"])] = set(o["hits"])
    vg = {}
    with open(vjson) as fh:
        for line in fh:
            o = json.loads(line)
            vg[(os.path.basename(o["source"]), o["index"])] = \
                (o["score"], {h["name"] for h in o.get("hits", [])})
    counts = collections.Counter()
    lost, msgs, bykind = (collections.Counter() for _ in range(3))
    for key, hits in sa.items():
        if key not in vg:
            continue
        lab = label_of(key[0]) or "?"
        vscore, vhits = vg[key]
        fsa, fvg = points(hits) >= 5, vscore >= 5
        counts[(lab, fsa, fvg)] += 1
        if lab != "spam" or not fsa or fvg:
            continue
        for n in hits - vhits:
            sc = rules.get(n, {}).get("score", 0)
            if n.startswith("__") or sc <= 0:
                continue
            lost[n] += sc
            msgs[n] += 1
            bykind[kind(n, set())] += sc
    print("| label | SpamAssassin | vigil | messages |")
    print("|---|---|---|---|")
    for (lab, fsa, fvg), v in sorted(counts.items()):
        print("| %s | %s | %s | %d |" % (lab, "spam" if fsa else "ham",
                                        "spam" if fvg else "ham", v))
    tot = sum(bykind.values()) or 1
    print()
    print("| kind of rule vigil lacked | points | share |")
    print("|---|---|---|")
    for k, v in bykind.most_common():
        print("| %s | %.1f | %.1f %% |" % (k, v, 100.0 * v / tot))
    print()
    print("| rule | points | messages | kind |")
    print("|---|---|---|---|")
    for n, v in lost.most_common(15):
        print("| %s | %.1f | %d | %s |" % (n, v, msgs[n], kind(n, set())))
    return 0

# ---------------------------------------------------------------- table

def median_rounds(rows):
    """One row per (tool, concurrency), in first-seen order: with several
    rounds, the round of median messages/s (the lower middle of an even
    count), its "rounds" set to [n, lowest, highest] messages/s."""
    groups, order = {}, []
    for r in rows:
        key = (r["name"], r["conc"])
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(r)
    first = {}
    for name, _ in order:
        first.setdefault(name, len(first))
    order.sort(key=lambda k: (first[k[0]], k[1]))   # by tool, then conc
    out = []
    for key in order:
        g = sorted(groups[key], key=lambda r: r["msgs_per_s"] or 0)
        m = dict(g[(len(g) - 1) // 2])
        if len(g) > 1:
            m["rounds"] = [len(g), g[0]["msgs_per_s"], g[-1]["msgs_per_s"]]
        out.append(m)
    return out


def cmd_table(args):
    rows = []
    with open(args[0]) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    rows = median_rounds(rows)
    print("| tool | conc | msg/s | msg/s after start | p50 ms | p99 ms "
          "| peak RSS | peak PSS | spam recall | ham FP | precision "
          "| errors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        tp, fp = r["tp"], r["fp"]
        prec = 100.0 * tp / (tp + fp) if tp + fp else None
        steady = r.get("steady_msgs_per_s")
        rate = fmt(r["msgs_per_s"], 1)
        if "rounds" in r:
            rate += " (median of %d: %s-%s)" % (
                r["rounds"][0], fmt(r["rounds"][1], 1), fmt(r["rounds"][2], 1))
        print("| %s | %d | %s | %s | %s | %s | %.1f MiB | %.1f MiB | %s %% "
              "(%d/%d) | %s %% (%d/%d) | %s | %d |" % (
                  r["name"], r["conc"], rate,
                  "-" if steady is None else "%s (start %.2f s)"
                  % (fmt(steady, 1), r["start_s"]),
                  fmt(r["p50_ms"]), fmt(r["p99_ms"]),
                  r["peak_rss_kb"] / 1024.0, r["peak_pss_kb"] / 1024.0,
                  fmt(r["recall"]), r["tp"], r["tp"] + r["fn"],
                  fmt(r["ham_fp"]), r["fp"], r["fp"] + r["tn"],
                  "n/a" if prec is None else fmt(prec) + " %",
                  r["errors"]))
    # speed ratios at each concurrency: vigil in-process against peers
    by = {(r["name"], r["conc"]): r for r in rows}
    print()
    print("| concurrency | vigil / rspamd | vigil / SpamAssassin "
          "| vigil after start / rspamd | vigil after start / SpamAssassin "
          "| vigild / rspamd | vigild / SpamAssassin |")
    print("|---|---|---|---|---|---|---|")
    for c in sorted(set(r["conc"] for r in rows)):
        def ratio(a, b, key="msgs_per_s"):
            ra, rb = by.get((a, c)), by.get((b, c))
            if not ra or not rb or not ra.get(key) or not rb["msgs_per_s"]:
                return "n/a"
            return "%.1f×" % (ra[key] / rb["msgs_per_s"])
        print("| %d | %s | %s | %s | %s | %s | %s |" % (
            c, ratio("vigil scan", "rspamd"),
            ratio("vigil scan", "SpamAssassin"),
            ratio("vigil scan", "rspamd", "steady_msgs_per_s"),
            ratio("vigil scan", "SpamAssassin", "steady_msgs_per_s"),
            ratio("vigild (milter)", "rspamd"),
            ratio("vigild (milter)", "SpamAssassin")))


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        sys.stdout.write(__doc__)
        return 0
    sub, args = sys.argv[1], sys.argv[2:]
    if sub == "split":
        cmd_split(args)
    elif sub == "run":
        cmd_run(args)
    elif sub == "table":
        cmd_table(args)
    elif sub == "why":
        return cmd_why(args)
    elif sub == "listeners":
        return cmd_listeners(args)
    elif sub == "tree":
        for p in tree([int(args[0])]):
            print(p)
    else:
        die("unknown subcommand %s" % sub)
    return 0


if __name__ == "__main__":
    sys.exit(main())
