package io.jsock.cli;

import java.util.Locale;

/**
 * What a finished transfer reports: a line for people on stderr and, with {@code --json}, an object
 * for machines on stdout.
 */
record TransferSummary(
    String verb, String file, long size, long resumedFrom, long nanos, String sha256) {

  /** The bytes that went over this connection (the whole file less a resumed prefix). */
  long bytes() {
    return size - resumedFrom;
  }

  double seconds() {
    return nanos / 1e9;
  }

  long bytesPerSecond() {
    return nanos <= 0 ? 0 : Math.round(bytes() / seconds());
  }

  /** {@code sent data.bin: 32.0 MiB in 0.41 s (78.0 MiB/s), SHA-256 ab12… verified}. */
  String line() {
    return String.format(
        Locale.ROOT,
        "%s %s: %s in %.2f s (%s/s)%s, SHA-256 %s verified",
        verb,
        file,
        Sizes.describe(bytes()),
        seconds(),
        Sizes.describe(bytesPerSecond()),
        resumedFrom > 0 ? ", resumed at byte " + resumedFrom : "",
        sha256);
  }

  String json() {
    return Json.object(
        "file", Json.string(file),
        "size", Long.toString(size),
        "bytes", Long.toString(bytes()),
        "resumed_from", Long.toString(resumedFrom),
        "seconds", String.format(Locale.ROOT, "%.3f", seconds()),
        "bytes_per_second", Long.toString(bytesPerSecond()),
        "sha256", Json.string(sha256),
        "verified", "true");
  }
}
