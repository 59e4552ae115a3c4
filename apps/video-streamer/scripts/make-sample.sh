#!/usr/bin/env sh
# Makes the sample media served by default (media/sample.mp4): 6 seconds of
# ffmpeg's testsrc pattern (a moving counter, so seeking shows) with a 440 Hz
# tone, H.264 + AAC in MP4 with the index (moov) first ("faststart"), so a
# browser can start playing and seek before it has the whole file.
# Beside it, the player page's poster (sample.jpg: the frame at 1 s) and
# subtitles (sample.vtt, written by hand and kept as is).
# The output is committed: running the app and its tests never needs ffmpeg.
# Usage: scripts/make-sample.sh [output.mp4]
set -eu
out=${1:-"$(dirname "$0")/../media/sample.mp4"}
command -v ffmpeg >/dev/null || { echo "make-sample: ffmpeg not found (apt-get install ffmpeg)" >&2; exit 1; }
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc=size=640x360:rate=25:duration=6" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=6" \
  -c:v libx264 -preset medium -profile:v main -pix_fmt yuv420p -crf 28 -g 25 \
  -c:a aac -b:a 96k \
  -movflags +faststart -map_metadata -1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact \
  "$out"
poster="${out%.*}.jpg"
ffmpeg -hide_banner -loglevel error -y -ss 1 -i "$out" -frames:v 1 -q:v 6 \
  -map_metadata -1 -fflags +bitexact -flags:v +bitexact "$poster"
size=$(wc -c <"$out")
echo "make-sample: wrote $out ($size bytes)"
[ "$size" -lt 2097152 ] || { echo "make-sample: $out is over 2 MB" >&2; exit 1; }
