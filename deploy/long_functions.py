#!/usr/bin/env python3
"""Lists C++ functions (and lambdas) longer than a limit, for STYLE's "no function over ~80 lines".

  deploy/long_functions.py [--max N] [paths...]   (default: 80 lines; services/ and gateway/)

A function's length is the lines from its opening brace to its closing one, both included, as a
reader scrolls them (comments and blank lines count). Prints "path:line: name: N lines" for each
function over the limit, longest first, and exits 1 if there is any.

A brace-counting pass, not a compiler: comments, string, character and raw string literals are
blanked first, then each '{' is classified by the code before it (since the last ';', '{' or '}'):
a function or lambda when that ends with a parameter list (and qualifiers such as const, override,
noexcept, a trailing return type) and does not start with if / for / while / switch / catch, or
when it is a lambda's capture list; a type, namespace, initializer or statement block otherwise.
Good enough for this tree's style (clang-formatted); deploy/lint.sh tidy has the AST if ever in
doubt.
"""

import argparse
import os
import re
import subprocess
import sys

CONTROL = re.compile(r"^(if|for|while|switch|catch|else|do|try|return|case|default)\b")
# The end of a function head: ")" then qualifiers, or a lambda's capture list alone ("[&] {").
QUALIFIERS = r"(\s|const|override|final|noexcept|mutable|&|ABSL_\w+\([^()]*\))*"
TRAILING_RETURN = r"(->\s*[\w:<>,\s*&]+)?"
FUNCTION_END = re.compile(r"\)" + QUALIFIERS + TRAILING_RETURN + r"$")
LAMBDA_NO_PARAMS = re.compile(r"\[[^\[\]]*\]" + QUALIFIERS + TRAILING_RETURN + r"$")
TYPE_HEAD = re.compile(r"\b(namespace|class|struct|union|enum)\b")


def blank_literals(text):
    """Returns text with comments and literals replaced by spaces (newlines kept)."""
    out = []
    i, n = 0, len(text)

    def blank(s):
        return "".join("\n" if c == "\n" else " " for c in s)

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(blank(text[i:j]))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(blank(text[i:j]))
            i = j
        elif c == "R" and i + 1 < n and text[i + 1] == '"' and not (
            i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")
        ):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = text.find(")" + m.group(1) + '"', i)
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append('R"' + blank(text[i + 2 : j - 1]) + '"')
            i = j
        elif c == '"' or (c == "'" and not (i > 0 and text[i - 1].isalnum())):
            # A ' after a digit or letter is a digit separator (100'000), not a character literal.
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + blank(text[i + 1 : j - 1]) + c)
            i = j
        elif c == "#" and (i == 0 or text[text.rfind("\n", 0, i) + 1 : i].strip() == ""):
            # A preprocessor line, with its continuations.
            j = i
            while True:
                k = text.find("\n", j)
                if k < 0:
                    k = n
                    break
                if text[k - 1] != "\\":
                    break
                j = k + 1
            out.append(blank(text[i:k]))
            i = k
        else:
            out.append(c)
            i += 1
    return "".join(out)


def function_name(head):
    """The name before the parameter list of a function head ("Store::Add"), or "lambda"."""
    head = head.strip()
    if LAMBDA_NO_PARAMS.search(head):
        return "lambda"
    # Strip the trailing qualifiers, then match the parameter list's parentheses backwards.
    close = head.rfind(")")
    depth = 0
    for k in range(close, -1, -1):
        if head[k] == ")":
            depth += 1
        elif head[k] == "(":
            depth -= 1
            if depth == 0:
                before = head[:k].rstrip()
                if before.endswith("]") or before.endswith("mutable"):
                    return "lambda"
                m = re.search(r"([~\w:]+(?:<[^<>]*>)?|operator\s*\S+)$", before)
                if not m:
                    return "?"
                # A constructor's member initializer list: the name is before the ':'.
                if re.search(r"\)\s*:\s*[^:]", before):
                    ctor = re.match(r"[^(]*?([~\w:]+)\s*\(", head)
                    return ctor.group(1) if ctor else "?"
                return m.group(1)
    return "?"


def long_functions(path, limit):
    with open(path, encoding="utf-8") as f:
        code = blank_literals(f.read())
    found = []
    stack = []  # (kind, name, open offset, paren depth outside)
    head_start = 0
    parens = 0  # open parentheses since the innermost '{': a for's ';' does not end its head
    for i, c in enumerate(code):
        if c == "(":
            parens += 1
        elif c == ")":
            parens = max(parens - 1, 0)
        elif c == ";" and parens == 0:
            head_start = i + 1
        elif c == "{":
            head = " ".join(code[head_start:i].split())
            kind, name = "block", ""
            if FUNCTION_END.search(head) or LAMBDA_NO_PARAMS.search(head):
                name = function_name(head)
                if name == "lambda" or not (CONTROL.match(head) or TYPE_HEAD.match(head)):
                    kind = "function"
            stack.append((kind, name, i, parens))
            head_start = i + 1
            parens = 0
        elif c == "}":
            if stack:
                kind, name, start, parens = stack.pop()
                if kind == "function":
                    first = code.count("\n", 0, start) + 1
                    lines = code.count("\n", start, i) + 1
                    if lines > limit:
                        outer = [s[1] for s in stack if s[0] == "function"]
                        if name == "lambda" and outer:
                            name = f"lambda in {outer[-1]}"
                        found.append((lines, path, first, name))
            head_start = i + 1
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=80, help="longest allowed, in lines")
    parser.add_argument("paths", nargs="*", default=["services", "gateway"])
    args = parser.parse_args()
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--"]
        + [os.path.join(p, "*.cc") if os.path.isdir(p) else p for p in args.paths]
        + [os.path.join(p, "*.h") if os.path.isdir(p) else p for p in args.paths],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    found = []
    for path in sorted(set(files)):
        if os.path.isfile(path):
            found += long_functions(path, args.max)
    for lines, path, line, name in sorted(found, key=lambda f: (-f[0], f[1], f[2])):
        print(f"{path}:{line}: {name}: {lines} lines")
    if found:
        print(f"long_functions: {len(found)} function(s) over {args.max} lines", file=sys.stderr)
        return 1
    print(f"long_functions: none over {args.max} lines in {len(set(files))} file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
