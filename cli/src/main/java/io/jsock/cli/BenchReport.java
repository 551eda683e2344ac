package io.jsock.cli;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/** How a {@code jsock bench} run reads: a few lines for people, or one JSON object for scripts. */
final class BenchReport {
  private static final double MIB = 1024.0 * 1024.0;

  private final LoadDriver.Outcome outcome;

  BenchReport(LoadDriver.Outcome outcome) {
    this.outcome = outcome;
  }

  /** Whether the scenario's round trips mean anything (bulk's stream has none). */
  private boolean hasLatency() {
    return outcome.plan().scenario() != Scenario.BULK && latency().getTotalCount() > 0;
  }

  private Histogram latency() {
    return outcome.measured().latency();
  }

  double messagesPerSecond() {
    LoadRun.Measured m = outcome.measured();
    return m.seconds() > 0 ? m.messages() / m.seconds() : 0;
  }

  double mibPerSecond() {
    LoadRun.Measured m = outcome.measured();
    return m.seconds() > 0 ? m.bytes() / MIB / m.seconds() : 0;
  }

  /** The run, for people. */
  List<String> lines() {
    LoadPlan plan = outcome.plan();
    LoadRun.Measured m = outcome.measured();
    List<String> lines = new ArrayList<>();
    lines.add(
        String.format(
            Locale.ROOT,
            "%s to %s: %s, %s measured after %s warm-up",
            plan.scenario().label(),
            Diagnostics.where(plan.server()),
            shape(plan),
            ShortDuration.format(plan.duration()),
            ShortDuration.format(plan.warmup())));
    lines.add(
        String.format(
            Locale.ROOT,
            "  messages  %,d in %.2f s: %,.0f/s, %,.1f MiB/s echoed",
            m.messages(),
            m.seconds(),
            messagesPerSecond(),
            mibPerSecond()));
    if (hasLatency()) {
      Histogram h = latency();
      lines.add(
          String.format(
              Locale.ROOT,
              "  latency   p50 %s  p90 %s  p99 %s  p99.9 %s  max %s µs",
              micros(h.getValueAtPercentile(50)),
              micros(h.getValueAtPercentile(90)),
              micros(h.getValueAtPercentile(99)),
              micros(h.getValueAtPercentile(99.9)),
              micros(h.getMaxValue())));
    }
    if (plan.scenario() == Scenario.UDP) {
      lines.add(String.format(Locale.ROOT, "  lost      %,d datagrams", m.losses()));
    }
    lines.add(
        String.format(
            Locale.ROOT,
            "  verified  %,d bytes echoed intact; %d errors; connections opened in %.2f s",
            outcome.run().verifiedBytes(),
            outcome.run().errors(),
            outcome.connectSeconds()));
    return lines;
  }

  /** The run as one JSON object. */
  String json() {
    LoadPlan plan = outcome.plan();
    LoadRun.Measured m = outcome.measured();
    List<String> perSecond = new ArrayList<>();
    for (long count : m.perSecond()) {
      perSecond.add(Long.toString(count));
    }
    return Json.object(
        "scenario", Json.string(plan.scenario().label()),
        "server", Json.string(Diagnostics.where(plan.server())),
        "connections", Integer.toString(plan.connections()),
        "size", Integer.toString(plan.size()),
        "pipeline", Integer.toString(plan.pipeline()),
        "writeSize", Integer.toString(plan.writeSize()),
        "warmupSeconds", number(plan.warmup().toMillis() / 1000.0),
        "seconds", number(m.seconds()),
        "messages", Long.toString(m.messages()),
        "messagesPerSecond", number(messagesPerSecond()),
        "bytes", Long.toString(m.bytes()),
        "mibPerSecond", number(mibPerSecond()),
        "verifiedBytes", Long.toString(outcome.run().verifiedBytes()),
        "errors", Long.toString(outcome.run().errors()),
        "firstError", firstErrorJson(),
        "losses", Long.toString(m.losses()),
        "connectSeconds", number(outcome.connectSeconds()),
        "fewestEchoes", fewestEchoes(),
        "latencyMicros", hasLatency() ? latencyJson() : "null",
        "messagesPerSecondTimeline", Json.array(perSecond));
  }

  private String latencyJson() {
    Histogram h = latency();
    return Json.object(
        "count", Long.toString(h.getTotalCount()),
        "mean", number(h.getMean() / 1000.0),
        "p50", number(h.getValueAtPercentile(50) / 1000.0),
        "p90", number(h.getValueAtPercentile(90) / 1000.0),
        "p99", number(h.getValueAtPercentile(99) / 1000.0),
        "p999", number(h.getValueAtPercentile(99.9) / 1000.0),
        "max", number(h.getMaxValue() / 1000.0));
  }

  private static String shape(LoadPlan plan) {
    String connections =
        plan.connections() + (plan.connections() == 1 ? " connection" : " connections");
    return switch (plan.scenario()) {
      case PINGPONG -> connections + ", " + plan.size() + "-byte messages";
      case PIPELINE ->
          connections
              + ", "
              + plan.size()
              + "-byte messages, "
              + plan.pipeline()
              + " in flight each";
      case BULK -> connections + ", " + plan.writeSize() + "-byte writes";
      case CONNECT ->
          plan.connections() + " connecting at once, " + plan.size() + "-byte echo each";
      case UDP -> plan.connections() + " sockets, " + plan.size() + "-byte datagrams";
    };
  }

  private static String micros(long nanos) {
    return String.format(Locale.ROOT, "%.1f", nanos / 1000.0);
  }

  private static String number(double value) {
    return String.format(Locale.ROOT, "%.3f", value);
  }

  /** pingpong, pipeline: the fewest messages one connection had echoed; otherwise {@code null}. */
  private String fewestEchoes() {
    long fewest = outcome.run().fewestEchoes();
    return fewest < 0 ? "null" : Long.toString(fewest);
  }

  /** The first connection error's message as a JSON value, or {@code null}. */
  private String firstErrorJson() {
    IOException first = outcome.run().firstError();
    return first == null ? "null" : Json.string(String.valueOf(first.getMessage()));
  }
}
