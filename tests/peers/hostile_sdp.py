"""SDP a hostile callee adds to its answer (the files named in the
answer_huge_sdp and answer_many_m_lines scenarios), made by the tests."""

FILLER_BYTES = 60 * 1024


def filler(path, size=FILLER_BYTES):
    """About `size` bytes of a=x-filler attributes (CRLF line ends): with its
    SDP, a 200 of about 60 KB."""
    line = "a=x-filler:%05d " + "y" * 52 + "\r\n"
    n = size // len(line % 0)
    path.write_text("".join(line % i for i in range(n)), newline="")
    return path


def m_lines(path, count=40):
    """`count` m-lines after the one the caller offered: more audio, video,
    application and text, some rejected (port 0), each with its own format."""
    kinds = ["audio %d RTP/AVP 8", "video %d RTP/AVP 31", "application %d UDP/BFCP *",
             "text %d RTP/AVP 98", "audio %d RTP/SAVP 0", "video 0 RTP/AVP 96"]
    lines = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        lines.append("m=" + (kind % (20000 + 2 * i) if "%d" in kind else kind))
        lines.append("a=rtpmap:98 t140/1000" if kind.startswith("text") else "a=sendonly")
    path.write_text("".join(l + "\r\n" for l in lines), newline="")
    return path
