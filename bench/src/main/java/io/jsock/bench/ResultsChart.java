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
 * Draws the comparison's charts from the medians {@code bench/compare} computed: messages per
 * second relative to Netty epoll ({@code throughput.png}) and p99 latency ({@code p99.png}), one
 * bar per server in each scenario.
 *
 * <pre>
 * java -cp bench/target/jsock-bench-peers.jar io.jsock.bench.ResultsChart medians.tsv docs/benchmarks
 * </pre>
 *
 * The TSV's columns: scenario, server, msgs/s, p99 µs (NA where there is none), then others.
 */
public final class ResultsChart {
  private static final String BASELINE = "netty-epoll";

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
    Set<String> servers = new LinkedHashSet<>();
    rows.forEach(r -> servers.add(r[1]));
    writeThroughput(rows, servers, out.resolve("throughput.png"));
    writeP99(rows, servers, out.resolve("p99.png"));
  }

  private static void writeThroughput(List<String[]> rows, Set<String> servers, Path file)
      throws IOException {
    Map<String, Double> baseline = new LinkedHashMap<>();
    for (String[] r : rows) {
      if (r[1].equals(BASELINE)) {
        baseline.put(r[0], number(r[2]));
      }
    }
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(1100)
            .height(500)
            .title("Echo throughput relative to Netty epoll (higher is better)")
            .yAxisTitle("msgs/s ÷ Netty epoll's")
            .build();
    for (String server : servers) {
      List<String> scenarios = new ArrayList<>();
      List<Double> values = new ArrayList<>();
      for (String[] r : rows) {
        Double base = baseline.get(r[0]);
        if (r[1].equals(server) && base != null && base > 0) {
          scenarios.add(r[0]);
          values.add(number(r[2]) / base);
        }
      }
      if (!scenarios.isEmpty()) {
        chart.addSeries(server, scenarios, values);
      }
    }
    if (!chart.getSeriesMap().isEmpty()) {
      BitmapEncoder.saveBitmap(chart, file.toString(), BitmapFormat.PNG);
    }
  }

  private static void writeP99(List<String[]> rows, Set<String> servers, Path file)
      throws IOException {
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(1100)
            .height(500)
            .title("p99 round-trip latency (lower is better)")
            .yAxisTitle("µs")
            .build();
    for (String server : servers) {
      List<String> scenarios = new ArrayList<>();
      List<Double> values = new ArrayList<>();
      for (String[] r : rows) {
        if (r[1].equals(server) && !r[3].equals("NA") && number(r[3]) > 0) {
          scenarios.add(r[0]);
          values.add(number(r[3]));
        }
      }
      if (!scenarios.isEmpty()) {
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
