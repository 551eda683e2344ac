package io.jsock.cli;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * What one {@code jsock bench} run does: the scenario, the server, how many connections, how big
 * the messages, how many in flight, and for how long.
 *
 * @param sourceIps 0 to let the kernel choose the source address; N to bind connection {@code i} to
 *     {@code 127.0.0.1 + (i mod N)}
 * @param timeout how long one connect may wait, and the echoes still in flight when the run stops
 * @param lossTimeout how long a datagram's echo may take before it counts as lost
 */
record LoadPlan(
    Scenario scenario,
    InetSocketAddress server,
    int connections,
    int size,
    int pipeline,
    int writeSize,
    Duration warmup,
    Duration duration,
    int sourceIps,
    Duration timeout,
    Duration lossTimeout) {

  /** The longest run of pattern bytes one send or check needs. */
  int maxWindow() {
    return switch (scenario) {
      case PIPELINE, PINGPONG -> size * pipeline;
      case BULK -> writeSize;
      case CONNECT, UDP -> size;
    };
  }

  /** Where connection {@code index}'s stream starts in the pattern: connections differ. */
  static long seedOf(int index) {
    return index * 7_919L;
  }
}
