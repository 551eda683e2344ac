package io.jsock.server;

import io.jsock.internal.Meter;
import java.util.concurrent.atomic.LongAdder;

/**
 * A server's live counters. {@link LongAdder}s, because thousands of connections count bytes at
 * once: each adds to a cell of its own and only {@link #stats()} sums them.
 */
final class Counters {
  final LongAdder open = new LongAdder();
  final LongAdder accepted = new LongAdder();
  final LongAdder refused = new LongAdder();
  final LongAdder timedOut = new LongAdder();
  final LongAdder tlsFailed = new LongAdder();
  final LongAdder oversized = new LongAdder();
  private final LongAdder bytesIn = new LongAdder();
  private final LongAdder bytesOut = new LongAdder();

  /** A meter for one more socket, counting into this server's byte totals. */
  Meter meter() {
    return new Meter(bytesIn, bytesOut);
  }

  ServerStats stats() {
    return new ServerStats(
        open.sum(),
        accepted.sum(),
        refused.sum(),
        timedOut.sum(),
        bytesIn.sum(),
        bytesOut.sum(),
        tlsFailed.sum(),
        oversized.sum());
  }
}
