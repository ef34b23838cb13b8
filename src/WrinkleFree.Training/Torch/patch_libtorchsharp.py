#!/usr/bin/env python3
"""Marks libLibTorchSharp.so's GLIBCXX_3.4.32 requirement weak so it loads on Debian 12 (libstdc++ 3.4.30).

TorchSharp 0.107.0's native shim was linked against a newer libstdc++ than Debian 12 ships. The only symbol that
needs GLIBCXX_3.4.32 is _ZSt21ios_base_library_initv (a static-init helper the shim never needs at run time), so
setting VER_FLG_WEAK (0x2) on that Vernaux entry lets the dynamic linker accept the older library; training was
measured to behave correctly with it. The script refuses to patch anything else.

Usage: patch_libtorchsharp.py FILE...   (each FILE is a build-output copy, possibly a hard link into the NuGet cache:
the patched bytes go to a temp file renamed over FILE, so the cache is never modified.)
Idempotent; a no-op when the system libstdc++ already provides GLIBCXX_3.4.32.
"""
import os
import struct
import subprocess
import sys

VERSION = b"GLIBCXX_3.4.32"
ALLOWED_SYMBOLS = {b"_ZSt21ios_base_library_initv"}
SHT_DYNSYM, SHT_GNU_VERNEED, SHT_GNU_VERSYM = 11, 0x6FFFFFFE, 0x6FFFFFFF
VER_FLG_WEAK = 0x2


def fail(path, message):
    sys.exit(f"patch_libtorchsharp: {path}: {message}; the TorchSharp package layout changed, update "
             f"src/WrinkleFree.Training/Torch/patch_libtorchsharp.py")


def system_has_version():
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=False).stdout
    except OSError:
        out = ""
    candidates = [line.split("=>")[-1].strip() for line in out.splitlines() if "libstdc++.so.6" in line and "x86-64" in line]
    candidates += ["/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib64/libstdc++.so.6"]
    for lib in candidates:
        if os.path.exists(lib):
            with open(lib, "rb") as f:
                return VERSION + b"\0" in f.read()
    return False


def cstr(data, offset):
    return bytes(data[offset:data.index(b"\0", offset)])


def patch(path):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        fail(path, "not a little-endian ELF64 file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = []
    for i in range(shnum):
        _, sh_type, _, _, offset, size, link, info, _, entsize = struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
        sections.append((sh_type, offset, size, link, info, entsize))
    by_type = {s[0]: s for s in sections}
    if SHT_GNU_VERNEED not in by_type or SHT_DYNSYM not in by_type or SHT_GNU_VERSYM not in by_type:
        fail(path, "no .gnu.version_r/.dynsym/.gnu.version section")

    _, need_off, _, need_link, need_count, _ = by_type[SHT_GNU_VERNEED]
    dynstr = sections[need_link][1]
    found = None
    entry = need_off
    for _ in range(need_count):
        _, cnt, _, aux, nxt = struct.unpack_from("<HHIII", data, entry)
        a = entry + aux
        for _ in range(cnt):
            _, flags, other, name, anext = struct.unpack_from("<IHHII", data, a)
            if cstr(data, dynstr + name) == VERSION:
                found = (a, flags, other)
            a += anext
        entry += nxt
    if found is None:
        print(f"patch_libtorchsharp: {path} does not require {VERSION.decode()}; nothing to do")
        return
    aux_off, flags, index = found

    # Only the expected symbol may depend on the version made weak; anything else would really be missing at run time.
    _, sym_off, sym_size, sym_link, _, sym_ent = by_type[SHT_DYNSYM]
    sym_str = sections[sym_link][1]
    versym_off = by_type[SHT_GNU_VERSYM][1]
    for i in range(sym_size // sym_ent):
        ver, = struct.unpack_from("<H", data, versym_off + 2 * i)
        if ver & 0x7FFF == index:
            name, = struct.unpack_from("<I", data, sym_off + i * sym_ent)
            if cstr(data, sym_str + name) not in ALLOWED_SYMBOLS:
                fail(path, f"symbol {cstr(data, sym_str + name).decode()} also needs {VERSION.decode()}")

    if flags & VER_FLG_WEAK:
        return  # already patched
    struct.pack_into("<H", data, aux_off + 4, flags | VER_FLG_WEAK)
    stat = os.stat(path)
    temp = f"{path}.wf-patch-{os.getpid()}"
    with open(temp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(temp, stat.st_mode & 0o7777)
    # Keep the original timestamp so MSBuild's incremental copy sees an up-to-date file and does not re-copy it.
    os.utime(temp, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(temp, path)
    print(f"patch_libtorchsharp: marked {VERSION.decode()} weak in {path}")


def main():
    if system_has_version():
        return
    for path in sys.argv[1:]:
        patch(path)


if __name__ == "__main__":
    main()
