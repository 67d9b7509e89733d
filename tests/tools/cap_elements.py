"""Prints a CAP document's elements, one per line, as `path = text` with text trimmed.

An independent reading (Python's expat, which honours the document's encoding declaration) to
compare what the hub relays with what it received: `python3 cap_elements.py FILE`.
"""
import sys
import xml.etree.ElementTree as ET


def local(tag):
    return tag.partition("}")[2] or tag


def walk(element, path, out):
    if len(element) == 0:
        out.append(f"{path} = {(element.text or '').strip()}")
        return
    seen = {}
    for child in element:
        name = local(child.tag)
        seen[name] = seen.get(name, 0) + 1
        walk(child, f"{path}/{name}[{seen[name]}]", out)


def main():
    with open(sys.argv[1], "rb") as handle:
        root = ET.fromstring(handle.read())
    lines = [f"namespace = {root.tag[1:].partition('}')[0]}"]
    walk(root, f"/{local(root.tag)}", lines)
    print("\n".join(lines))


main()
