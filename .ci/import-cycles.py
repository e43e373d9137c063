"""Import cycles among the modules of a Rust crate: `python3 .ci/import-cycles.py src`.

A module depends on another when it uses an item that module defines (a `pub use`
re-export is followed to the defining module; `mod tests` is left out). A parent that
declares its children and re-exports them depends on them; a child that uses an item its
parent defines depends on the parent, and that pair is a loop. Prints each cycle with
its edges and exits 1 when there is one. Approximate (it reads text, not the compiler's
resolution), which is enough to keep the dependency graph a DAG.
"""
import os, re, sys
root = sys.argv[1] if len(sys.argv) > 1 else 'src'
mods = {}
for dp, dn, fn in os.walk(root):
    for f in fn:
        if f.endswith('.rs'):
            p = os.path.join(dp, f)
            parts = os.path.relpath(p, root)[:-3].split(os.sep)
            if parts[-1] in ('mod', 'lib', 'main'): parts = parts[:-1]
            mods['::'.join(parts)] = p
texts = {}
for m, p in mods.items():
    t = open(p).read()
    t = re.sub(r'#\[cfg\(test\)\](?:\s*#\[[^\]]*\])*\s*mod tests\s*\{.*', '', t, flags=re.S)
    t = re.sub(r'//[^\n]*', '', t)
    texts[m] = t
defs = {m: set(re.findall(r'^\s*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?(?:struct|enum|fn|trait|const|static|type|macro_rules!)\s+([A-Za-z_][A-Za-z0-9_]*)', t, flags=re.M)) for m, t in texts.items()}
reexports = {}
for m, t in texts.items():
    r = {}
    for body in re.findall(r'pub(?:\([^)]*\))?\s+use\s+([^;]+);', t):
        body = re.sub(r'\s+', '', body)
        mm = re.match(r'(.*)::\{(.*)\}$', body)
        items = [(mm.group(1), x) for x in mm.group(2).split(',') if x] if mm else [(body.rsplit('::', 1)[0], body.rsplit('::', 1)[1])] if '::' in body else []
        for base, x in items:
            name = x.split('as')[-1] if 'as' in x else x
            r[name.split('::')[-1]] = base + ('::' + x.split('as')[0] if '::' in x else '') if False else (base + '::' + x.split(' as ')[0])
    reexports[m] = r
def absolute(m, path):
    segs = path.split('::')
    cur = m.split('::') if m else []
    if mods[m].endswith('mod.rs') or mods[m].endswith('lib.rs') or mods[m].endswith('main.rs'):
        here = cur
    else:
        here = cur
    out = None
    if segs[0] == 'crate': out = []; segs = segs[1:]
    elif segs[0] == 'self': out = list(here); segs = segs[1:]
    elif segs[0] == 'super':
        out = list(here)
        while segs and segs[0] == 'super': out = out[:-1]; segs = segs[1:]
    else:
        # relative to a child module
        c = '::'.join(here + [segs[0]])
        if c in mods: out = list(here)
        else: return None
    return out, segs
def owner(mod_segs, segs, depth=0):
    """The module defining the item reached by segs from module mod_segs."""
    cur = list(mod_segs)
    for i, s in enumerate(segs):
        nxt = '::'.join(cur + [s])
        if nxt in mods:
            cur = cur + [s]; continue
        m = '::'.join(cur)
        if m not in mods: return None
        if s in defs[m]: return m
        if s in reexports.get(m, {}) and depth < 10:
            r = absolute(m, reexports[m][s])
            if r: return owner(r[0], r[1], depth + 1) or m
        return m
    return '::'.join(cur)
edges = {m: set() for m in mods}
for m, t in texts.items():
    paths = []
    for body in re.findall(r'\buse\s+([^;]+);', t):
        body = re.sub(r'\s+', '', body)
        def expand(prefix, b):
            mm = re.match(r'([^{]*)\{(.*)\}$', b)
            if not mm:
                paths.append(prefix + b); return
            head, inner = mm.group(1), mm.group(2)
            depth = 0; cur = ''; parts = []
            for ch in inner:
                if ch == ',' and depth == 0: parts.append(cur); cur = ''; continue
                depth += ch == '{'; depth -= ch == '}'; cur += ch
            parts.append(cur)
            for part in parts:
                if part: expand(prefix + head, part)
        expand('', body)
    paths += re.findall(r'(?<![A-Za-z0-9_:])((?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+)', re.sub(r'\buse\s+[^;]+;', '', t))
    for child in re.findall(r'^\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+([a-z_][a-z0-9_]*)\s*;', t, flags=re.M):
        for hit in re.findall(r'(?<![A-Za-z0-9_:])' + child + r'((?:::[A-Za-z_][A-Za-z0-9_]*)+)', re.sub(r'\buse\s+[^;]+;', '', t)):
            paths.append(child + hit)
    for path in paths:
        path = re.sub(r'\bas\b.*', '', path).rstrip(':')
        path = re.sub(r'::self$', '', path)
        if path.endswith('::*'): path = path[:-3]
        r = absolute(m, path)
        if not r: continue
        o = owner(r[0], r[1])
        if o and o != m and o in mods:
            edges[m].add(o)
index = {}; low = {}; stack = []; on = set(); sccs = []; i = [0]
sys.setrecursionlimit(10000)
def strong(v):
    index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index: strong(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: sccs.append(sorted(comp))
for v in sorted(edges):
    if v not in index: strong(v)
for c in sccs:
    print(f"cycle of {len(c)}: " + ' '.join(c or ['crate']))
    for a in c:
        for b in sorted(edges[a]):
            if b in c: print(f"    {a or 'crate'} -> {b or 'crate'}")
print(f"{len(sccs)} import cycle(s) in {root}")
sys.exit(1 if sccs else 0)
