package io.jsock.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.BitmapEncoder.BitmapFormat;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

/**
 * Draws the comparison's charts from the medians {@code bench/compare} computed, each figure
 * relative to Netty epoll's in the same scenario, one bar per server: messages per second ({@code
 * throughput.png}), p99 latency ({@code p99.png}) and server CPU time per message ({@code
 * cpu.png}).
 *
 * <pre>
 * java -cp bench/target/jsock-bench-peers.jar io.jsock.bench.ResultsChart medians.tsv docs/benchmarks
 * </pre>
 *
 * The TSV's columns: scenario, server, msgs/s, p99 µs, server CPU µs per message (NA where there is
 * none), then others.
 */
public final class ResultsChart {
  private static final String BASELINE = "netty-epoll";
  private static final int RATE = 2;
  private static final int P99 = 3;
  private static final int CPU = 4;

  /**
   * Room for one scenario's name under its bars: at a fixed width, the nine scenarios' names ran
   * into each other.
   */
  private static final int PIXELS_PER_SCENARIO = 150;

  private static final int LEGEND_PIXELS = 200;

  private ResultsChart() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      throw new IllegalArgumentException("usage: ResultsChart MEDIANS.tsv OUTPUT-DIR");
    }
    System.setProperty("java.awt.headless", "true");
    List<String[]> rows = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of(args[0]))) {
      if (!line.isBlank()) {
        rows.add(line.split("\t"));
      }
    }
    Path out = Path.of(args[1]);
    writeRelative(
        rows,
        RATE,
        "Echo throughput relative to Netty epoll (higher is better)",
        "msgs/s ÷ Netty epoll's",
        out.resolve("throughput.png"));
    writeRelative(
        rows,
        P99,
        "p99 round-trip latency relative to Netty epoll (lower is better)",
        "p99 ÷ Netty epoll's",
        out.resolve("p99.png"));
    writeRelative(
        rows,
        CPU,
        "Server CPU time per message relative to Netty epoll (lower is better)",
        "CPU µs/msg ÷ Netty epoll's",
        out.resolve("cpu.png"));
  }

  /** One chart of {@code column} divided by Netty epoll's in each scenario that has both. */
  private static void writeRelative(
      List<String[]> rows, int column, String title, String yAxisTitle, Path file)
      throws IOException {
    Map<String, Double> baseline = new LinkedHashMap<>();
    Set<String> servers = new LinkedHashSet<>();
    for (String[] r : rows) {
      servers.add(r[1]);
      if (r[1].equals(BASELINE)) {
        baseline.put(r[0], number(r[column]));
      }
    }
    long scenarioCount = rows.stream().map(r -> r[0]).distinct().count();
    CategoryChart chart =
        new CategoryChartBuilder()
            .width((int) Math.max(1100, PIXELS_PER_SCENARIO * scenarioCount + LEGEND_PIXELS))
            .height(500)
            .title(title)
            .yAxisTitle(yAxisTitle)
            .build();
    // Every series over the same scenarios, those with a baseline, with a gap (null) where the
    // server has no figure: XChart draws a series' bars by position and fails to paint a series
    // with fewer categories than another.
    List<String> scenarios = new ArrayList<>();
    baseline.forEach(
        (scenario, base) -> {
          if (base > 0) {
            scenarios.add(scenario);
          }
        });
    for (String server : servers) {
      List<Double> values = new ArrayList<>();
      boolean any = false;
      for (String scenario : scenarios) {
        Double value = null;
        for (String[] r : rows) {
          if (r[0].equals(scenario) && r[1].equals(server) && number(r[column]) > 0) {
            value = number(r[column]) / baseline.get(scenario);
            any = true;
          }
        }
        values.add(value);
      }
      if (any) {
        chart.addSeries(server, scenarios, values);
      }
    }
    if (!chart.getSeriesMap().isEmpty()) {
      BitmapEncoder.saveBitmap(chart, file.toString(), BitmapFormat.PNG);
    }
  }

  private static double number(String text) {
    return text.equals("NA") ? 0 : Double.parseDouble(text);
  }
}
