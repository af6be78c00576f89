#!/usr/bin/env python3
"""Makes a program's man page with help2man, then sets right what help2man
cannot know from --help alone.

  man-page.py HELP2MAN PROGRAM NAME INCLUDE OUTPUT

help2man builds the page from PROGRAM's --help and --version, with NAME as
its one-line summary and the sections of the --include file INCLUDE
(EXAMPLES, FILES, ENVIRONMENT, SEE ALSO). Then:

- the "Exit status:" part of --help, which help2man leaves as a subsection
  of DESCRIPTION, becomes the EXIT STATUS section, after DESCRIPTION and
  OPTIONS (where man-pages(7) puts it);
- text quoted with backticks in --help (`option value`) is set in italics:
  a backtick in a man page prints as a stray accent;
- lines of an option's text that are URIs (evkv://..., unix:/...), which
  --help lines up in a column, become a list, one item a line, instead of
  being filled into one run of text.

Writes OUTPUT; exits non-zero, leaving no OUTPUT, when help2man fails.
"""
import re
import subprocess
import sys

URI_LINE = re.compile(r"^(evkv|evkv\+unix|unix):")


def exit_status_section(lines):
    try:
        start = lines.index('.SS "Exit status:"')
    except ValueError:
        return lines
    end = start + 1
    while end < len(lines) and not lines[end].startswith((".SS ", ".SH ")):
        end += 1
    block = lines[start + 1:end]
    rest = lines[:start] + lines[end:]
    # After DESCRIPTION and OPTIONS: at the first other section after them.
    desc = next(i for i, line in enumerate(rest) if line.startswith(".SH DESCRIPTION"))
    at = next((i for i in range(desc + 1, len(rest)) if rest[i].startswith(".SH ") and rest[i] != ".SH OPTIONS"),
              len(rest))
    return rest[:at] + ['.SH "EXIT STATUS"'] + block + rest[at:]


def uri_lists(lines):
    out, i = [], 0
    while i < len(lines):
        if not URI_LINE.match(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        # help2man may start a new tagged paragraph (.TP, with no tag) at
        # the indented lines: they belong to the option above.
        if out and out[-1] == ".TP":
            out.pop()
        out += [".RS", ".PD 0"]
        while i < len(lines) and URI_LINE.match(lines[i]):
            out += [r".IP \(bu 2", lines[i]]
            i += 1
        out += [".PD", ".RE"]
    return out


def main():
    help2man, program, name, include, output = sys.argv[1:]
    page = subprocess.run([help2man, "--no-info", "--section", "1", "--name", name, "--include", include,
                           program], stdout=subprocess.PIPE, check=True).stdout.decode()
    page = re.sub(r"`([^`'\n]+)`", r"\\fI\1\\fR", page)
    page = page.replace("`", r"\(aq")
    lines = uri_lists(exit_status_section(page.split("\n")))
    with open(output, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
