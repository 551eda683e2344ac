package io.jsock.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The faults {@code jsock relay} injects, in the spirit of Toxiproxy's toxics. Latency, bandwidth,
 * slicing, the data limit and the slow close act on each direction that {@code --direction} names;
 * the reset and the timeout act on the connection as a whole.
 */
final class FaultOptions {
  /** Which way bytes travel: up from the client to the target, down from the target back. */
  enum Direction {
    both,
    up,
    down
  }

  @Option(
      names = "--latency",
      paramLabel = "DELAY[±JITTER]",
      converter = Jitter.DurationConverter.class,
      description =
          "Delay each chunk read by DELAY plus or minus up to JITTER, drawn for each chunk"
              + " (50ms±20ms, 50ms+-20ms, 100ms). Order is kept: a chunk never overtakes the"
              + " one before it.")
  Jitter latency;

  @Option(
      names = "--bandwidth",
      paramLabel = "RATE",
      converter = Sizes.Rate.class,
      description =
          "Pace each direction to RATE bytes per second (1MiB/s, 64KiB/s, 1000/s), in pieces of"
              + " a twentieth of a second's worth.")
  Long bandwidth;

  @Option(
      names = "--slice",
      paramLabel = "SIZE[±JITTER]",
      converter = Jitter.CountConverter.class,
      description =
          "Split each chunk into pieces of SIZE bytes plus or minus up to JITTER (7±5: 2 to 12"
              + " bytes), each written on its own.")
  Jitter slice;

  @Option(
      names = "--slice-delay",
      paramLabel = "DURATION",
      converter = Durations.class,
      description = "With --slice: wait this long between pieces (default: no wait).")
  Duration sliceDelay;

  @Option(
      names = "--limit-data",
      paramLabel = "SIZE",
      converter = Sizes.class,
      description =
          "Close the connection (both sides) once SIZE bytes have passed in a direction; exactly"
              + " SIZE bytes are delivered (1000, 64KiB).")
  Long limitData;

  @Option(
      names = "--reset-after",
      paramLabel = "DURATION",
      converter = Durations.class,
      description =
          "Reset both sides of each connection (RST) this long after the relay joined them (the"
              + " target connected, TLS handshakes done).")
  Duration resetAfter;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      converter = Durations.class,
      description =
          "A black hole: accept and connect as usual but deliver no data (what arrives is read"
              + " and dropped), then close both sides after DURATION.")
  Duration timeout;

  @Option(
      names = "--slow-close",
      paramLabel = "DURATION",
      converter = Durations.class,
      description = "Delay passing on an end of stream (FIN or TLS close_notify) by DURATION.")
  Duration slowClose;

  @Option(
      names = "--direction",
      paramLabel = "WAY",
      defaultValue = "both",
      description =
          "Where --latency, --bandwidth, --slice, --limit-data and --slow-close act: both, up"
              + " (client to target) or down (target to client) (default: ${DEFAULT-VALUE}).")
  Direction direction;

  /**
   * Whether the per-direction faults act on bytes going {@code way} ({@code up} or {@code down}).
   */
  boolean actsOn(Direction way) {
    return direction == Direction.both || direction == way;
  }

  /** Whether a fault {@code --direction} steers is given: without one it would do nothing. */
  boolean hasDirectedFault() {
    return latency != null
        || bandwidth != null
        || slice != null
        || limitData != null
        || slowClose != null;
  }

  /** The options given, as written, for the listening message; empty when none. */
  List<String> describe() {
    List<String> given = new ArrayList<>();
    if (latency != null) {
      given.add("--latency " + latency.formatDuration());
    }
    if (bandwidth != null) {
      given.add("--bandwidth " + Sizes.format(bandwidth) + "/s");
    }
    if (slice != null) {
      given.add("--slice " + slice.base() + (slice.spread() > 0 ? "±" + slice.spread() : ""));
    }
    if (sliceDelay != null) {
      given.add("--slice-delay " + Durations.format(sliceDelay));
    }
    if (limitData != null) {
      given.add("--limit-data " + limitData);
    }
    if (resetAfter != null) {
      given.add("--reset-after " + Durations.format(resetAfter));
    }
    if (timeout != null) {
      given.add("--timeout " + Durations.format(timeout));
    }
    if (slowClose != null) {
      given.add("--slow-close " + Durations.format(slowClose));
    }
    if (!given.isEmpty() && direction != Direction.both) {
      given.add("--direction " + direction);
    }
    return given;
  }
}
