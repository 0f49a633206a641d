#!/usr/bin/env python3
"""Checks every relative Markdown link, and every repository path written in backquotes, in the
repository's Markdown files (CHANGELOG.md excepted: it is history) and Go doc comments."""
import os, re, subprocess, sys
root = subprocess.check_output(["git", "rev-parse", "--show-toplevel"], text=True).strip()
os.chdir(root)
files = subprocess.check_output(["git", "ls-files"], text=True).split()
tracked = set(files)
dirs = {os.path.dirname(f) for f in files}
alldirs = set()
for d in dirs:
    while d:
        alldirs.add(d); d = os.path.dirname(d)
md = [f for f in files if f.endswith(".md") and f != "CHANGELOG.md"]

def slug(h):
    h = h.strip().lower()
    h = re.sub(r"[^\w\- ]", "", h)
    return h.replace(" ", "-")

def anchors(path):
    out = set()
    for line in open(path, encoding="utf-8"):
        m = re.match(r"#+ (.*)", line)
        if m: out.add(slug(re.sub(r"`", "", m.group(1))))
    return out

bad = 0; checked = 0
link = re.compile(r"\]\(([^)\s]+)\)")
# a path: starts with a top-level entry of the repo, in backquotes
top = {p.split("/")[0] for p in files}
pathre = re.compile(r"`((?:\.\./)*(?:%s)/[^`\s*<>{}…]*)`" % "|".join(re.escape(t) for t in top if not t.startswith(".") or t in (".ci",)))
for f in md:
    text = open(f, encoding="utf-8").read()
    base = os.path.dirname(f)
    for target in link.findall(text):
        if re.match(r"[a-z]+:", target): continue
        path, _, frag = target.partition("#")
        full = os.path.normpath(os.path.join(base, path)) if path else f
        checked += 1
        if full not in tracked and full not in alldirs:
            print(f"{f}: link {target}: no such file"); bad += 1; continue
        if frag and full.endswith(".md") and frag not in anchors(full):
            print(f"{f}: link {target}: no heading #{frag}"); bad += 1
    for m in pathre.finditer(text):
        p = m.group(1).rstrip("/.,:;")
        if text[m.end():m.end()+5] == " in `":
            continue  # a path in another repository, named right after it
        full = os.path.normpath(p)   # paths in backquotes are written from the repository root
        checked += 1
        if full not in tracked and full not in alldirs:
            # allow a glob or a placeholder-ish suffix
            if any(t.startswith(full) for t in tracked): continue
            print(f"{f}: path `{p}`: not in the repository"); bad += 1
# Go comments naming .md files
for f in files:
    if not f.endswith(".go"): continue
    for i, line in enumerate(open(f, encoding="utf-8"), 1):
        for m in re.finditer(r"((?:docs|examples)/[\w./-]+\.md|[\w/]+README\.md)", line):
            checked += 1
            if m.group(1) not in tracked:
                print(f"{f}:{i}: {m.group(1)}: not in the repository"); bad += 1
outside = sorted(set(re.findall(r"\.\./shared/[\w./-]*", " ".join(open(f, encoding="utf-8").read() for f in md))))
print("paths outside the repository, named as such:", ", ".join(outside) or "none")
print(f"{checked} links and paths checked, {bad} broken")
sys.exit(1 if bad else 0)
