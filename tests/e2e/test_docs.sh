# End-to-end tests of the documentation: every code sample in README.md and
# docs/*.md runs, and docs/cli.md matches the binary's --help texts. Run by
# tests/e2e/harness.sh; each doc file is one test, in a fresh temp dir ($T,
# also DATALOOP_PATH=$T/home), and its samples run in order, so a doc can build
# on its earlier samples (the tutorial does). A failure names the sample's
# file:line.
#
# The convention (docs/README.md, "Code samples", says it for authors):
#
#   ```lua   a whole adapter (it calls dl.Adapter and ends with `return A`) is
#            written to a file and run: `dlrun FILE predict` (else embed, else
#            load) on a generated image, in a store of its own. Any other Lua
#            is a snippet: it runs with `dlrun run`, `dl` already required.
#            In a snippet, `print(x)  --> text` says what it prints: when a
#            snippet has such lines, its output must be exactly those texts.
#   ```sh    runs with bash (set -e, pipefail) in the doc's folder, with dlrun
#            on PATH and DATALOOP_PATH=$PWD/dataloop.
#   ```text  output or plain text: not run.
#   ```json  an example document: it must parse.
#   ```python  dtlpy code, for comparison: compiled (syntax, after removing
#            the indentation of a method), not run.
#   Any other fence, or one without a language, is an error.
#
# A comment on the line before a fence refines it:
#
#   <!-- sample: file=NAME -->     lua: write (or, for the next blocks with
#                                  the same NAME, append) to NAME in the doc's
#                                  folder; the file runs as an adapter once a
#                                  block ends it with `return A`.
#   <!-- sample: edit=NAME -->     lua: each `function A:f(...)` of the block
#                                  replaces A:f in NAME (the `end` at column 0
#                                  closes it), then NAME runs as an adapter.
#   <!-- sample: watch touch=NAME -->  sh: one `dlrun ... --watch` command, run
#                                  in the background; after its first run NAME
#                                  is saved again; after the second, Ctrl-C must
#                                  stop it with exit 0.
#   <!-- sample: excerpt=PATH -->  lua: not run; its lines must appear, in order,
#                                  in PATH (in the doc's folder; $ROOT is the
#                                  source tree); a "..." line skips lines.
#   <!-- sample: exit=N -->        sh: the block must exit N.
#   <!-- sample: output -->        text: each line (except "...") must appear,
#                                  in order, in the output of the sh block
#                                  before it; hex ids, times, durations, rates,
#                                  byte sizes and spacing may differ (every other
#                                  number must match), and "..." in a line stands for any
#                                  text.
#   <!-- sample: same-keys=PATH --> json: has the keys of the real file PATH
#                                  (in the doc's folder), object by object; an
#                                  object with a "..." key may leave keys out.
#   <!-- sample: skip="REASON" check="CMD" -->  lua or sh: not run, for REASON;
#                                  CMD (optional) runs from the source tree
#                                  and must exit 0 (BUILD is the build folder).
#
# A block inside `<!-- sample: hidden` ... `-->` is invisible to readers but
# runs like the others (setup a reader does not need to see).

DOCS_BUILD=$(cd "$(dirname "$DLRUN")/.." && pwd)

# run_doc FILE: runs every sample of FILE (relative to the source tree).
run_doc() {
  DOC="$1" DOCS_ROOT="$ROOT" DOCS_BUILD="$DOCS_BUILD" /usr/bin/python3 - <<'PY'
import glob, json, os, re, shlex, signal, subprocess, sys, textwrap, time

root, build, doc = os.environ["DOCS_ROOT"], os.environ["DOCS_BUILD"], os.environ["DOC"]
dlrun = os.environ["DLRUN"]
work = os.getcwd()
check_dir = os.path.join(work, ".docs-check")
os.makedirs(check_dir, exist_ok=True)
env = dict(os.environ)
# dlrun first, then Debian's own tools (python3 with python3-numpy, as the tests need)
env["PATH"] = os.pathsep.join([os.path.dirname(dlrun), "/usr/bin", "/bin", env.get("PATH", "")])
env["DATALOOP_PATH"] = os.path.join(work, "dataloop")
env["ROOT"] = root
env["BUILD"] = build
env["DLRUN_PROGRESS_INTERVAL"] = "1000"

counts = {"run": 0, "checked": 0, "skipped": 0}


class Failure(Exception):
    pass


def fail(line, msg, output=""):
    text = f"{doc}:{line}: {msg}"
    if output:
        tail = output.splitlines()[-30:]
        text += "\n" + "\n".join("    " + l for l in tail)
    raise Failure(text)


# ---------------------------------------------------------------- parsing

FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^`\s]*)\s*$")
DIRECTIVE = re.compile(r"^\s*<!--\s*sample:\s*(.*?)\s*-->\s*$")


def parse(path):
    """The fenced blocks of a markdown file: dicts with lang, line (of the
    opening fence), text, opts (from a directive comment) and hidden."""
    lines = open(path, encoding="utf-8").read().split("\n")
    blocks, i, hidden, pending = [], 0, False, None
    while i < len(lines):
        line = lines[i]
        if re.match(r"^\s*<!--\s*sample:\s*hidden\s*$", line):
            hidden = True
            i += 1
            continue
        if hidden and line.strip() == "-->":
            hidden = False
            i += 1
            continue
        m = DIRECTIVE.match(line)
        if m:
            try:
                words = shlex.split(m.group(1))
            except ValueError as e:
                fail(i + 1, f"bad sample directive: {e}")
            opts = {}
            for w in words:
                k, _, v = w.partition("=")
                opts[k] = v
            pending = (i + 1, opts)
            if i + 1 >= len(lines) or not FENCE.match(lines[i + 1]):
                fail(i + 1, "a sample directive must be on the line right before its code fence")
            i += 1
            continue
        m = FENCE.match(line)
        if m:
            indent, fence, lang = m.groups()
            start = i + 1
            body = []
            i += 1
            while i < len(lines) and not re.match(r"^\s*" + re.escape(fence[0]) + "{%d,}\s*$" % len(fence), lines[i]):
                body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
                i += 1
            if i >= len(lines):
                fail(start, "code fence is never closed")
            opts = pending[1] if pending and pending[0] == start - 1 else {}
            pending = None
            blocks.append({"lang": lang, "line": start, "text": "\n".join(body) + "\n", "opts": opts,
                           "hidden": hidden})
        i += 1
    return blocks


# ---------------------------------------------------------------- running

def run(cmd, line, what, timeout=180, expect=0, cwd=None, extra_env=None):
    e = dict(env)
    if extra_env:
        e.update(extra_env)
    try:
        p = subprocess.run(cmd, cwd=cwd or work, env=e, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout)
    except subprocess.TimeoutExpired as ex:
        fail(line, f"{what} did not finish in {timeout} s", (ex.output or b"").decode(errors="replace"))
    out = p.stdout.decode(errors="replace")
    if p.returncode != expect:
        fail(line, f"{what} exited {p.returncode}, expected {expect}", out)
    return out


def map_lines(out, script, line):
    """Error messages point into the doc: NAME:n -> doc:line+n."""
    base = os.path.basename(script)
    return re.sub(r"[^\s'\"]*" + re.escape(base) + r":(\d+)", lambda m: f"{doc}:{line + int(m.group(1))}", out)


SMOKE_IMAGE = None


def smoke_image():
    global SMOKE_IMAGE
    if SMOKE_IMAGE is None:
        SMOKE_IMAGE = os.path.join(check_dir, "item.png")
        maker = os.path.join(check_dir, "make_item.lua")
        with open(maker, "w") as f:
            f.write("local t = require 'dl.testing'\n"
                    "local img = t.image { width = 64, height = 48, color = { 200, 60, 40 }, noise = 20,\n"
                    "  rects = { { x = 10, y = 8, width = 30, height = 20, color = { 30, 40, 220 } } } }\n"
                    "assert(require('dl.image').save_png(img, arg[1]))\n")
        run([dlrun, "run", maker, SMOKE_IMAGE], 0, "making the smoke-test image")
    return SMOKE_IMAGE


def defines(text, fname):
    return re.search(r"^\s*function\s+[A-Za-z_]\w*[:.]" + fname + r"\s*\(", text, re.M) is not None


def run_adapter(path, line):
    """Runs the adapter at path on a generated image, in a store of its own."""
    text = open(path).read()
    cmd = next((c for c in ("predict", "embed", "load") if defines(text, c)), None)
    if cmd is None:
        fail(line, f"adapter {os.path.relpath(path, work)} defines none of predict, embed, load to run")
    args = [dlrun, path, cmd, "--home", os.path.join(check_dir, "home"), "-q"]
    if cmd != "load":
        args += [smoke_image(), "--out", "-"]
    out = run(args, line, f"dlrun {os.path.basename(path)} {cmd}")
    counts["run"] += 1
    return out


def lua_snippet(b):
    line, text = b["line"], b["text"]
    script = os.path.join(check_dir, f"snippet_{line}.lua")
    # on the first line, so that line numbers stay those of the block
    with open(script, "w") as f:
        f.write("local dl = require 'dl'; " + text)
    expected = []
    for l in text.split("\n"):
        m = re.match(r"^\s*print\(.*\)\s*-->\s?(.*)$", l)
        if m:
            expected.append(m.group(1).rstrip())
    e = dict(env)
    p = subprocess.run([dlrun, "run", script], cwd=work, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    if p.returncode != 0:
        fail(line, f"lua snippet failed (exit {p.returncode})", map_lines(out + err, script, line))
    if expected:
        got = [l.rstrip() for l in out.rstrip("\n").split("\n")] if out else []
        if got != expected:
            fail(line, "lua snippet printed other values than its `--> ` comments say:\n    expected: "
                 + repr(expected) + "\n    got:      " + repr(got))
    counts["run"] += 1


def is_whole_adapter(text):
    return "dl.Adapter" in text and re.search(r"^return\s+[A-Za-z_]\w*\s*$", text.rstrip().split("\n")[-1]) is not None


def lua_block(b, files):
    opts, line, text = b["opts"], b["line"], b["text"]
    if "file" in opts:
        name = opts["file"]
        path = os.path.join(work, name)
        mode = "a" if name in files else "w"
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, mode) as f:
            f.write(text)
        files[name] = line
        if re.search(r"^return\s+[A-Za-z_]\w*\s*$", text.rstrip().split("\n")[-1]):
            run_adapter(path, line)
            del files[name]
        return
    if "edit" in opts:
        name = opts["edit"]
        path = os.path.join(work, name)
        if not os.path.exists(path):
            fail(line, f"edit={name}: no such file (an earlier sample must make it)")
        src = open(path).read()
        for m in re.finditer(r"^function\s+(\w+[:.]\w+)\s*\(.*?^end[ \t]*$", text, re.M | re.S):
            fn = m.group(1)
            pat = re.compile(r"^function\s+" + re.escape(fn) + r"\s*\(.*?^end[ \t]*$", re.M | re.S)
            if not pat.search(src):
                fail(line, f"edit={name}: {name} has no function {fn} to replace")
            src = pat.sub(lambda _: m.group(0), src, count=1)
        with open(path, "w") as f:
            f.write(src)
        run_adapter(path, line)
        return
    if "excerpt" in opts:
        return excerpt_block(b)
    if is_whole_adapter(text):
        path = os.path.join(check_dir, f"adapter_{line}.lua")
        with open(path, "w") as f:
            f.write(text)
        try:
            run_adapter(path, line)
        except Failure as e:
            raise Failure(map_lines(str(e), path, line))
        return
    lua_snippet(b)


def excerpt_block(b):
    """The block's lines appear, in order, in the file (a "..." line stands for lines left out)."""
    line, name = b["line"], b["opts"]["excerpt"]
    path = os.path.join(work, os.path.expandvars(name))
    if not os.path.exists(path):
        fail(line, f"excerpt={name}: no such file")
    have = [l.strip() for l in open(path).read().split("\n")]
    pos = 0
    for k, want in enumerate(b["text"].rstrip("\n").split("\n")):
        w = want.strip()
        if w in ("...", "-- ...", ""):
            continue
        while pos < len(have) and have[pos] != w:
            pos += 1
        if pos == len(have):
            fail(line + 1 + k, f"excerpt: this line is not in {name} (in this order): {w!r}")
        pos += 1
    counts["checked"] += 1


def sh_block(b):
    opts, line, text = b["opts"], b["line"], b["text"]
    script = os.path.join(check_dir, f"block_{line}.sh")
    if "watch" in opts:
        return watch_block(b)
    with open(script, "w") as f:
        f.write("set -eo pipefail; " + text)
    expect = int(opts.get("exit", "0"))
    out = run(["bash", script], line, "sh sample", expect=expect)
    counts["run"] += 1
    return map_lines(out, script, line)


def watch_block(b):
    line, opts = b["line"], b["opts"]
    cmd = b["text"].strip()
    if "\n" in cmd or "--watch" not in cmd:
        fail(line, "a watch sample is one dlrun command with --watch")
    touch = opts.get("touch")
    if not touch:
        fail(line, "a watch sample needs touch=FILE")
    err_path = os.path.join(check_dir, f"watch_{line}.err")
    with open(err_path, "w") as err, open(os.devnull, "w") as devnull:
        p = subprocess.Popen(["bash", "-c", "exec " + cmd], cwd=work, env=env, stdout=devnull, stderr=err)

    def wait_runs(n):
        deadline = time.time() + 30
        while time.time() < deadline:
            if open(err_path).read().count("dlrun: watch: watching") >= n:
                return
            if p.poll() is not None:
                break
            time.sleep(0.05)
        p.kill()
        p.wait()
        fail(line, f"watch sample: run {n} did not finish", open(err_path).read())

    wait_runs(1)
    target = os.path.join(work, touch)
    data = open(target, "rb").read()
    with open(target, "wb") as f:  # saved as an editor saves it
        f.write(data)
    wait_runs(2)
    p.send_signal(signal.SIGINT)
    try:
        rc = p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        fail(line, "watch sample: Ctrl-C did not stop it", open(err_path).read())
    if rc != 0:
        fail(line, f"watch sample: exited {rc} after Ctrl-C, expected 0", open(err_path).read())
    counts["run"] += 1
    return open(err_path).read()


# What differs from run to run, so output checks leave it out: ids and hashes
# (runs of 8 or more hex digits), times and dates, durations and rates, and
# byte sizes. Every other number (counts, scores, versions) must match.
VOLATILE = [  # times first: a date like 20260101 would pass for a hex id
    (r"\d{4}-\d\d-\d\dT[\d:.]+Z", "<time>"),
    (r"\d{8}-\d{6}|\d{4}-\d\d-\d\d-\d{6}", "<time>"),
    (r"(?<![0-9A-Za-z])[0-9a-f]{8,}(?![0-9A-Za-z])", "#"),
    (r"\d+(\.\d+)?(?= ?(s|ms|seconds)\b)", "<t>"),
    (r"\d+(\.\d+)?(?= items/s)", "<rate>"),
    (r"\b\d+:\d\d(:\d\d)?\b", "<t>"),
    (r"\d+(?= bytes)", "<n>"),
]


def normalize(s):
    for pattern, repl in VOLATILE:
        s = re.sub(pattern, repl, s)
    return " ".join(s.split())


def output_block(b, last):
    if last is None:
        fail(b["line"], "an output check needs an sh sample before it")
    got = [normalize(l) for l in last[1].split("\n")]
    pos = 0
    for want in b["text"].rstrip("\n").split("\n"):
        if want.strip() in ("", "..."):
            continue
        # "..." inside a line stands for any text (a path, say)
        w = re.compile(".*".join(re.escape(part) for part in normalize(want).split("...")))
        while pos < len(got) and not w.search(got[pos]):
            pos += 1
        if pos == len(got):
            fail(b["line"], f"output line not found (in order) in the output of the sample at line {last[0]}: "
                 f"{want.strip()!r}", last[1])
        pos += 1
    counts["checked"] += 1


def shape(v):
    if isinstance(v, dict):
        return ("object", frozenset(v.keys()), tuple(sorted((k, shape(x)) for k, x in v.items() if k != "...")))
    if isinstance(v, list):
        return ("array", frozenset(shape(x) for x in v))
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if v is None:
        return "null"
    return "string"


def same_keys(doc_v, real_v, where):
    """Problems where doc_v (from the doc) does not have real_v's keys."""
    if isinstance(doc_v, dict):
        if not isinstance(real_v, dict):
            return [f"{where}: an object in the doc, a {type(real_v).__name__} in the file"]
        keys = set(doc_v) - {"..."}
        problems = []
        missing = set(real_v) - keys
        extra = keys - set(real_v)
        if extra:
            problems.append(f"{where}: keys not in the file: {sorted(extra)}")
        if missing and "..." not in doc_v:
            problems.append(f"{where}: keys the doc leaves out: {sorted(missing)}")
        for k in sorted(keys & set(real_v)):
            problems += same_keys(doc_v[k], real_v[k], f"{where}.{k}")
        return problems
    if isinstance(doc_v, list):
        if not isinstance(real_v, list):
            return [f"{where}: an array in the doc, a {type(real_v).__name__} in the file"]
        problems = []
        for i, x in enumerate(doc_v):
            if isinstance(x, (dict, list)):
                # an element must fit one of the file's elements
                tries = [same_keys(x, y, f"{where}[{i}]") for y in real_v]
                if tries and all(tries):
                    problems += min(tries, key=len)
        return problems
    return []


def json_block(b):
    line, opts = b["line"], b["opts"]
    try:
        value = json.loads(b["text"])
    except ValueError as e:
        fail(line, f"json sample does not parse: {e}")
    if "same-keys" in opts:
        pattern = os.path.join(work, os.path.expandvars(opts["same-keys"]))
        paths = sorted(glob.glob(pattern))
        if not paths:
            fail(line, f"same-keys: no file matches {opts['same-keys']}")
        real = json.load(open(paths[0]))
        problems = same_keys(value, real, "$")
        if problems:
            fail(line, f"json sample differs from {os.path.relpath(paths[0], work)}:\n    " + "\n    ".join(problems))
    counts["checked"] += 1


def main():
    files = {}
    last_sh = None
    for b in parse(os.path.join(root, doc)):
        lang, opts, line = b["lang"], b["opts"], b["line"]
        if "skip" in opts:
            if lang not in ("lua", "sh"):
                fail(line, "skip applies to lua and sh samples")
            if not opts["skip"].strip():
                fail(line, 'skip needs a reason: skip="why this cannot run in a test"')
            if opts.get("check"):
                run(["bash", "-c", opts["check"]], line, f"the check of a skipped sample ({opts['check']})",
                    cwd=root)
                counts["checked"] += 1
            counts["skipped"] += 1
            continue
        if lang == "lua":
            lua_block(b, files)
        elif lang == "sh":
            last_sh = (line, sh_block(b))
        elif lang == "text":
            if "output" in opts:
                output_block(b, last_sh)
        elif lang == "json":
            json_block(b)
        elif lang == "python":
            try:
                compile(textwrap.dedent(b["text"]), f"{doc}:{line}", "exec")
            except SyntaxError as e:
                fail(line + (e.lineno or 0), f"python sample does not compile: {e.msg}")
            counts["checked"] += 1
        elif lang == "":
            fail(line, "code fence without a language: use lua, sh, text, json or python")
        else:
            fail(line, f"code fence language '{lang}' is not one of lua, sh, text, json, python")
    for name, line in files.items():
        fail(line, f"file={name}: no block ends it with `return A`, so it never ran")
    print(f"{doc}: {counts['run']} samples run, {counts['checked']} checked, {counts['skipped']} skipped")


try:
    main()
except Failure as e:
    print(e, file=sys.stderr)
    sys.exit(1)
PY
}

# One test per doc file: test_doc_README_md, test_doc_docs_tutorial_md, ...
for _doc in "$ROOT"/README.md "$ROOT"/docs/*.md; do
  [ -f "$_doc" ] || continue
  _doc=${_doc#"$ROOT"/}
  eval "test_doc_${_doc//[^A-Za-z0-9]/_}() { run_doc '$_doc'; }"
done
unset _doc

test_cli_md_matches_the_help_texts() {
  bash "$ROOT/scripts/gen-cli-doc.sh" --check "$DLRUN" ||
    fail "docs/cli.md is out of date: run scripts/gen-cli-doc.sh"
}

test_links_between_docs_resolve() {
  /usr/bin/python3 - "$ROOT" <<'PY'
import os, re, sys
root = sys.argv[1]
docs = ["README.md"] + sorted("docs/" + f for f in os.listdir(os.path.join(root, "docs")) if f.endswith(".md"))

def anchors(path):
    out = set()
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^#+\s+(.*)$", line)
        if m:
            a = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            out.add(a)
    return out

bad = []
for d in docs:
    text = open(os.path.join(root, d), encoding="utf-8").read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    for m in re.finditer(r"\]\(([^)\s]+)\)", text):
        target = m.group(1)
        if re.match(r"^[a-z]+://", target) or target.startswith("mailto:"):
            continue
        path, _, anchor = target.partition("#")
        full = os.path.normpath(os.path.join(root, os.path.dirname(d), path)) if path else os.path.join(root, d)
        if not os.path.exists(full):
            bad.append(f"{d}: link to {target}: no such file")
        elif anchor and full.endswith(".md") and anchor not in anchors(full):
            bad.append(f"{d}: link to {target}: no such heading")
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY
}

# docs/api.md names every public function of the dl package, so a new one
# cannot go undocumented. Internal modules (dl.host, dl.host_train, dl.watch,
# dl.native, dl.scaffold) are the runtime's, not the adapters'.
test_api_md_names_every_public_function() {
  /usr/bin/python3 - "$ROOT" <<'PY'
import os, re, sys
root = sys.argv[1]
api = open(os.path.join(root, "docs/api.md"), encoding="utf-8").read()

def src(name):
    return open(os.path.join(root, "lua/dl", name), encoding="utf-8").read()

def names(text, pattern):
    return sorted(set(re.findall(pattern, text, re.M)))

# (file, pattern of the public names, the forms the reference may use)
rules = [
    ("tensor.lua", r"^function M\.(\w+)", ["tensor.{}"]),
    ("tensor.lua", r"^function methods\.(\w+)|^methods\.(\w+) =", [":{}("]),
    ("image.lua", r"^function M\.(\w+)", ["image.{}(", ":{}("]),
    ("batch.lua", r"^function M\.(\w+)", ["batch.{}("]),
    ("batch.lua", r"^function Pipeline:(\w+)", ["pipe:{}("]),
    ("nn/init.lua", r"^  (\w+) = \w+\.\w+,", ["nn.{}"]),
    ("nn/module.lua", r"^function Module:(\w+)", [":{}("]),
    ("nn/module.lua", r"^function M\.(\w+)", ["nn.Module.{}("]),
    ("optim.lua", r"^function M\.(\w+)", ["optim.{}"]),
    ("optim.lua", r"^function \w+:(\w+)|^\w+\.(zero_grad) =", ["opt:{}("]),
    ("safetensors.lua", r"^function M\.(\w+)", ["safetensors.{}("]),
    ("data.lua", r"^function M\.(\w+)|^M\.([A-Z_]+) =", ["data.{}"]),
    ("data.lua", r"^function Loader:(\w+)", ["loader:{}("]),
    ("testing.lua", r"^function M\.(\w+)", ["testing.{}"]),
    ("log.lua", r"^function M\.(\w+)", ["dl.log').{}("]),
]
missing = []
for file, pattern, forms in rules:
    for found in names(src(file), pattern):
        name = found if isinstance(found, str) else next(n for n in found if n)
        if not any(f.format(name) in api for f in forms):
            missing.append(f"lua/dl/{file}: {name} (expected {' or '.join(f.format(name) for f in forms)})")
if missing:
    print("docs/api.md does not mention:\n  " + "\n  ".join(missing))
    sys.exit(1)
PY
}
