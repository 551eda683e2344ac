package io.jsock.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.BitmapEncoder.BitmapFormat;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries.XYSeriesRenderStyle;

/**
 * The PNG of {@code jsock bench --plot}: the latency percentile distribution (HdrHistogram's
 * classic plot: x is 1/(1-percentile) on a log axis, so p99 and p99.9 get room) beside the messages
 * per second of each second measured.
 */
final class BenchChart {
  private BenchChart() {}

  static void write(Path file, String title, LoadRun.Measured measured) throws IOException {
    System.setProperty("java.awt.headless", "true");
    List<XYChart> charts = new ArrayList<>();
    if (measured.latency().getTotalCount() > 0) {
      charts.add(percentiles(title, measured.latency()));
    }
    charts.add(timeline(title, measured.perSecond()));
    BitmapEncoder.saveBitmap(charts, 1, charts.size(), file.toString(), BitmapFormat.PNG);
  }

  private static XYChart percentiles(String title, Histogram latency) {
    XYChart chart =
        new XYChartBuilder()
            .width(700)
            .height(450)
            .title(title + ": latency by percentile")
            .xAxisTitle("percentile (1/(1-p): 10 = p90, 100 = p99, 1000 = p99.9)")
            .yAxisTitle("µs")
            .build();
    chart.getStyler().setXAxisLogarithmic(true).setLegendVisible(false).setMarkerSize(0);
    List<Double> x = new ArrayList<>();
    List<Double> y = new ArrayList<>();
    for (HistogramIterationValue v : latency.percentiles(5)) {
      double percentile = v.getPercentileLevelIteratedTo();
      if (percentile >= 100.0) {
        break; // 1/(1-p) is infinite at p100
      }
      x.add(100.0 / (100.0 - percentile));
      y.add(v.getValueIteratedTo() / 1000.0);
    }
    if (x.isEmpty()) {
      x.add(1.0);
      y.add(latency.getMaxValue() / 1000.0);
    }
    chart.addSeries("latency", x, y).setXYSeriesRenderStyle(XYSeriesRenderStyle.Line);
    return chart;
  }

  private static XYChart timeline(String title, long[] perSecond) {
    XYChart chart =
        new XYChartBuilder()
            .width(700)
            .height(450)
            .title(title + ": throughput")
            .xAxisTitle("second")
            .yAxisTitle("messages/s")
            .build();
    chart.getStyler().setLegendVisible(false);
    List<Integer> x = new ArrayList<>();
    List<Long> y = new ArrayList<>();
    for (int second = 0; second < perSecond.length; second++) {
      x.add(second + 1);
      y.add(perSecond[second]);
    }
    if (x.isEmpty()) {
      x.add(0);
      y.add(0L);
    }
    chart.addSeries("messages/s", x, y);
    return chart;
  }
}
