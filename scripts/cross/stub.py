#!/usr/bin/env python3
"""Replace the bodies of inlinable declarations that fail to type-check.

Used only by scripts/cross-check, after scripts/cross/patch32.py.  Once `Int`
is 32 bits wide, some inlinable bodies in the retargeted Swift.swiftinterface
(mostly conversions that pass `Int._value` to a 64-bit builtin) no longer
type-check.  Given the line numbers of the compiler's errors, this script
replaces the body of the enclosing function, initializer, subscript or
accessor with `Builtin.unreachable()`.  The declaration (its signature and
thus the API that client code is type-checked against) is unchanged; only
the inlined implementation is lost.  That is acceptable because the armv7
standard library built this way is used for type and compile-time checks
only; its machine code is never run.

Usage: stub.py INTERFACE ERROR_LINES_FILE   (edits INTERFACE in place)
ERROR_LINES_FILE holds 1-based line numbers separated by white space.
"""
import bisect
import re
import sys

TYPE_HEAD = re.compile(r"\b(struct|class|enum|extension|protocol|actor)\s+[\w.`]+")
MEMBER_HEAD = re.compile(r"\b(func|init|deinit|var|let|subscript)\b")
PROPERTY_HEAD = re.compile(r"\b(var|subscript)\b")
ACCESSOR_HEAD = re.compile(
    r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:mutating\s+|nonmutating\s+)?"
    r"(get|set|_modify|_read|modify|read|unsafeAddress|unsafeMutableAddress|willSet|didSet)\b")


def code_braces(text):
    """Map each '{' offset to its matching '}' offset, ignoring braces in
    comments and string literals (including interpolations and \"\"\" strings)."""
    pairs, stack = {}, []
    i, n = 0, len(text)
    # Each entry of `ctx` is the paren depth of an open string interpolation.
    ctx = []

    def skip_string(i):
        """i points just past an opening quote; return offset past the closing one."""
        multi = text.startswith('""', i)
        if multi:
            i += 2
        while i < n:
            c = text[i]
            if c == "\\" and i + 1 < n and text[i + 1] == "(":
                # Interpolation: scan code up to the matching ')'.
                i = scan_code(i + 2, stop_at_paren=True)
                continue
            if c == "\\":
                i += 2
                continue
            if multi and text.startswith('"""', i):
                return i + 3
            if not multi and c == '"':
                return i + 1
            i += 1
        return i

    def scan_code(i, stop_at_paren=False):
        depth = 0
        while i < n:
            c = text[i]
            if text.startswith("//", i):
                j = text.find("\n", i)
                i = n if j < 0 else j
                continue
            if text.startswith("/*", i):
                j = text.find("*/", i + 2)
                i = n if j < 0 else j + 2
                continue
            if c == '"':
                i = skip_string(i + 1)
                continue
            if c == "{":
                stack.append(i)
            elif c == "}":
                if not stack:
                    sys.exit("stub.py: unbalanced '}' at offset %d" % i)
                pairs[stack.pop()] = i
            elif stop_at_paren and c == "(":
                depth += 1
            elif stop_at_paren and c == ")":
                if depth == 0:
                    return i + 1
                depth -= 1
            i += 1
        return i

    scan_code(0)
    if stack:
        sys.exit("stub.py: %d unclosed '{'" % len(stack))
    return pairs


def main(path, lines_path):
    with open(path) as f:
        text = f.read()
    with open(lines_path) as f:
        err_lines = sorted({int(x) for x in f.read().split()})
    line_starts = [0]
    for m in re.finditer("\n", text):
        line_starts.append(m.end())

    pairs = code_braces(text)
    opens = sorted(pairs)
    # Every code brace, open or close: a declaration's head is the text between
    # the previous brace and its own opening brace.
    all_braces = sorted(opens + list(pairs.values()))

    def head(o):
        k = bisect.bisect_left(all_braces, o)
        start = all_braces[k - 1] + 1 if k > 0 else 0
        return text[start:o]

    bodies = set()
    failed = []
    for ln in err_lines:
        off = line_starts[ln - 1]
        chain = [o for o in opens if o < off <= pairs[o]]  # outermost first
        target = None
        for depth, o in enumerate(chain):
            h = head(o)
            if TYPE_HEAD.search(h) and not MEMBER_HEAD.search(h):
                continue  # a type or extension body: descend to its members
            if not MEMBER_HEAD.search(h):
                break     # not a declaration body we know how to stub
            target = o
            # A property or subscript with explicit accessors: stub just the
            # accessor containing the error, so the other accessors survive.
            if PROPERTY_HEAD.search(h) and depth + 1 < len(chain):
                inner = chain[depth + 1]
                if ACCESSOR_HEAD.match(head(inner)):
                    target = inner
            break
        if target is None:
            failed.append(ln)
        else:
            bodies.add((target, pairs[target]))

    # Drop bodies nested in another body being stubbed.
    final = []
    for a, b in sorted(bodies):
        if final and a < final[-1][1]:
            continue
        final.append((a, b))
    for a, b in reversed(final):
        text = text[:a + 1] + " Builtin.unreachable() " + text[b:]
    with open(path, "w") as f:
        f.write(text)
    print("stub.py: stubbed %d bodies" % len(final))
    if failed:
        sys.exit("stub.py: no declaration body encloses error line(s) %s" %
                 ", ".join(map(str, failed)))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
