"""Audio/video sync, as a viewer of the published stream sees it.

A callee (SCENARIO, SIPp with one GStreamer sender on one clock) sends two
captures of one timeline from t = 0: PCMU silence with a BEEP_S beep at each
of EVENTS, and H.264 video, black but for FLASH_FRAMES white frames from each
of EVENTS. A player that joined before the publisher (start_pull) keeps the
stream from its first tag; flash_beep_offsets pairs each flash with its beep
in that FLV. Used by the sipsrc and the sip2rtmpd A/V tests.

    with Sipp(SCENARIO, files=callee_files(), ...) as uas:
        pull = start_pull(url, flv)
        ...
    offsets, ctx = flash_beep_offsets(testcase, flv)
"""

import re
import subprocess

import rtp_pcap
import video_pcap

SCENARIO = "answer_pcmu_h264_one_clock_bye.xml"
WIDTH, HEIGHT, FPS = 320, 240, 25
EVENTS = (1.0, 2.0, 3.0, 4.0)       # s on the captures' common timeline
BEEP_S = 0.1
BEEP_HZ = 1000
FLASH_FRAMES = 3
LENGTH_S = 6.0
MAX_OFFSET_S = 0.100
BLACK, WHITE = 16, 235


def beep_packets():
    """PCMU RTP of silence with a BEEP_S beep at each of EVENTS, from t = 0."""
    s = rtp_pcap.RtpStream()
    t = 0.0
    for at in EVENTS:
        s.tone(at - t, BEEP_HZ, amplitude=0)
        s.tone(BEEP_S, BEEP_HZ)
        t = at + BEEP_S
    s.tone(LENGTH_S - t, BEEP_HZ, amplitude=0)
    return s.packets


def flash_packets():
    """H.264 RTP of black frames, white for FLASH_FRAMES from each of EVENTS."""
    white = set()
    for at in EVENTS:
        first = int(round(at * FPS))
        white.update(range(first, first + FLASH_FRAMES))
    black = video_pcap.i420_frame(WIDTH, HEIGHT, BLACK)
    bright = video_pcap.i420_frame(WIDTH, HEIGHT, WHITE)
    frames = [bright if n in white else black for n in range(int(round(LENGTH_S * FPS)))]
    return video_pcap.h264_rtp_packets_of_frames(frames, fps=FPS, width=WIDTH,
                                                 height=HEIGHT, key_int=FPS)


def _ffmpeg_filter_log(flv, stream, filt):
    r = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "info", "-copyts",
                        "-i", str(flv), "-map", "0:%s" % stream, "-%s" % (
                            "vf" if stream == "v" else "af"), filt, "-f", "null", "-"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("ffmpeg %s on %s: %s" % (filt, flv, r.stderr[-2000:]))
    return r.stderr


def flash_times(flv):
    """(pts of the first frame of each run of white frames, [(pts, mean luma)])."""
    frames = []
    for line in _ffmpeg_filter_log(flv, "v", "showinfo").splitlines():
        m = re.search(r"pts_time:\s*([-0-9.]+).*?mean:\[(\d+)", line)
        if m:
            frames.append((float(m.group(1)), int(m.group(2))))
    flashes = []
    was_white = False
    for pts, luma in frames:
        is_white = luma > (BLACK + WHITE) // 2
        if is_white and not was_white:
            flashes.append(pts)
        was_white = is_white
    return flashes, frames


def beep_onsets(flv):
    """pts of the end of each silence (onset of each beep) of the audio."""
    log = _ffmpeg_filter_log(flv, "a", "silencedetect=noise=-30dB:d=0.05")
    return [float(x) for x in re.findall(r"silence_end:\s*([-0-9.]+)", log)], log


def callee_files():
    """The captures SCENARIO's sender reads, for Sipp(files=...)."""
    video = flash_packets()
    return {"beeps-pcmu.pcap": lambda p: rtp_pcap.write_pcap(p, beep_packets()),
            "h264.pcap": lambda p: rtp_pcap.write_pcap(p, video)}


def start_pull(url, flv, rw_timeout_s=15):
    """ffmpeg copying LENGTH_S - 0.5 s of both tracks of `url` into `flv`.
    Started before the publisher, it gets the stream from its first tag
    (nginx-rtmp keeps a player of a stream not yet published waiting)."""
    return subprocess.Popen(
        ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y",
         "-rw_timeout", str(int(rw_timeout_s * 1e6)), "-i", url,
         "-map", "0:v", "-map", "0:a", "-c", "copy", "-t", "%.1f" % (LENGTH_S - 0.5),
         "-f", "flv", str(flv)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)


def flash_beep_offsets(testcase, flv):
    """Asserts one flash and one beep per event in `flv`, each flash within
    MAX_OFFSET_S of its beep; returns the offsets (flash - beep, s)."""
    flashes, frames = flash_times(flv)
    beeps, alog = beep_onsets(flv)
    ctx = "\nflashes (video pts) %s\nbeep onsets (audio pts) %s\nframes %s" % (
        flashes, beeps, frames)
    testcase.assertEqual(len(flashes), len(EVENTS), "flashes found" + ctx)
    # a silence ending with the stream is no beep
    testcase.assertGreaterEqual(len(beeps), len(EVENTS), "beeps found" + ctx + alog[-2000:])
    # each flash with the beep onset nearest to it: an onset that is no beep
    # (a blip as the stream starts) pairs with nothing; events are 1 s apart,
    # so a real offset of more than 100 ms (and up to 500 ms) still fails
    beeps = [min(beeps, key=lambda b: abs(f - b)) for f in flashes]
    testcase.assertEqual(len(set(beeps)), len(EVENTS), "one beep per flash" + ctx)
    offsets = [round(f - b, 3) for f, b in zip(flashes, beeps)]
    print("\nvideo flash - audio beep, per event (s): %s" % offsets)
    for i, (f, b) in enumerate(zip(flashes, beeps)):
        testcase.assertLess(abs(f - b), MAX_OFFSET_S,
                            "event %d: flash at %.3f s, beep at %.3f s (offset %+.0f ms)%s" %
                            (i + 1, f, b, (f - b) * 1000, ctx))
    return offsets


def finish_pull(pull, timeout=25):
    """ffmpeg's stderr once start_pull's copy ends (killed after `timeout` s)."""
    try:
        _, err = pull.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        pull.kill()
        _, err = pull.communicate()
    return err
