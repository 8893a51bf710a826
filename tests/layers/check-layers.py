#!/usr/bin/python3
"""The plugin's files form layers, with no circle.

Two graphs over plugins/sip2rtmp/, a node per module (foo.c and foo.h are one
module; libre/sipua*.{c,h} are the SIP user agent's, libre/stack*.{c,h} the
stacks'): who includes whose header (from the sources), and who calls whose
functions (from the objects of the plugin's internal library, by nm). Each
must be acyclic; a circle is printed and fails.

usage: check-layers.py SOURCE_DIR [OBJECT.o | LIBRARY.a ...]
"""
import os
import re
import subprocess
import sys


def module(path):
    """libre/sipua_call.c -> libre/sipua; gstsipsrc.h -> gstsipsrc"""
    d, base = os.path.split(path)
    name = re.sub(r'\.[ch]$', '', base)
    name = re.sub(r'\.c\.o$', '', name)
    for family in ('sipua', 'stack'):
        if d.endswith('libre') and (name == family or name.startswith(family + '_')):
            name = family
    return (d + '/' if d else '') + name


def include_graph(src):
    edges = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith(('.c', '.h')):
                continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, src)
            me = module(rel)
            edges.setdefault(me, set())
            for m in re.finditer(r'^#include "([^"]+)"', open(path).read(), re.M):
                inc = m.group(1)
                if inc == 'config.h':
                    continue
                # relative to the including file, then to the plugin's root
                for base in (os.path.dirname(rel), ''):
                    cand = os.path.normpath(os.path.join(base, inc))
                    if os.path.exists(os.path.join(src, cand)):
                        if module(cand) != me:
                            edges[me].add(module(cand))
                        break
    return edges


def call_graph(objects):
    """objects: .o files, or the internal library (.a) itself"""
    defs, uses = {}, {}
    for o in objects:
        out = subprocess.run(['nm', o], capture_output=True, text=True,
                             check=True).stdout
        me = None if o.endswith('.a') else os.path.basename(o)
        for line in out.splitlines():
            if line.endswith('.o:'):        # an archive's member
                me = os.path.basename(line[:-1])
                continue
            parts = line.split()
            if not parts or me is None:
                continue
            # meson names objects libre_sipua_call.c.o: the module from the name
            rel = me.replace('libre_', 'libre/', 1) if me.startswith('libre_') else me
            mod = module(rel)
            if len(parts) == 3 and parts[1] in 'TDBR':
                defs[parts[2]] = mod
            elif len(parts) == 2 and parts[0] == 'U':
                uses.setdefault(mod, set()).add(parts[1])
    edges = {}
    for me, syms in uses.items():
        edges.setdefault(me, set())
        for s in syms:
            other = defs.get(s)
            if other and other != me:
                edges[me].add(other)
    return edges


def find_cycle(edges):
    state = {}
    stack = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if not state.get(m):
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(edges):
        if not state.get(n):
            c = visit(n)
            if c:
                return c
    return None


def main():
    src = sys.argv[1]
    ok = True
    graphs = [('includes', include_graph(src))]
    if len(sys.argv) > 2:
        graphs.append(('calls', call_graph(sys.argv[2:])))
    for name, edges in graphs:
        cycle = find_cycle(edges)
        if cycle:
            print('%s: a circle: %s' % (name, ' -> '.join(cycle)))
            ok = False
        else:
            print('%s: no circle among %d modules' % (name, len(edges)))
        if os.environ.get('VERBOSE'):
            for n in sorted(edges):
                print('  %s -> %s' % (n, ', '.join(sorted(edges[n]))))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
