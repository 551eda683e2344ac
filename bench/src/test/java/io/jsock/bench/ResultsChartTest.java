package io.jsock.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The comparison's three charts are drawn from a medians file, with NA where a figure is none. */
class ResultsChartTest {
  @Test
  void drawsThroughputP99AndCpuChartsAsPngs(@TempDir Path dir) throws Exception {
    Path medians = dir.resolve("medians.tsv");
    Files.writeString(
        medians,
        """
        pingpong-100\tjsock\t85464\t5365.8\t9.57\t168.24\t0
        pingpong-100\tnetty-epoll\t74759\t5279.7\t9.764\t292.28\t0
        bulk-64k\tjsock\t20403\tNA\t48.618\t9614.8\t0
        bulk-64k\tnetty-epoll\t21902\tNA\t42.094\t1961.2\t0
        """);

    ResultsChart.main(new String[] {medians.toString(), dir.toString()});

    for (String chart : new String[] {"throughput.png", "p99.png", "cpu.png"}) {
      BufferedImage image = ImageIO.read(dir.resolve(chart).toFile());
      assertThat(image).as(chart).isNotNull();
      assertThat(image.getWidth()).as(chart).isEqualTo(1100);
      assertThat(image.getHeight()).as(chart).isEqualTo(500);
    }
  }

  @Test
  void widensWithTheScenariosSoTheirNamesFitUnderTheBars(@TempDir Path dir) throws Exception {
    StringBuilder medians = new StringBuilder();
    for (int i = 0; i < 9; i++) {
      medians.append("scenario-").append(i).append("\tjsock\t200\t10\t2\t1\t0\n");
      medians.append("scenario-").append(i).append("\tnetty-epoll\t100\t20\t4\t1\t0\n");
    }
    Path file = Files.writeString(dir.resolve("medians.tsv"), medians);

    ResultsChart.main(new String[] {file.toString(), dir.toString()});

    BufferedImage image = ImageIO.read(dir.resolve("throughput.png").toFile());
    assertThat(image.getWidth()).isEqualTo(9 * 150 + 200);
    assertThat(image.getHeight()).isEqualTo(500);
  }

  @Test
  void aServerWithoutAFigureInOneScenarioLeavesAGapThereAndTheChartsAreStillDrawn(@TempDir Path dir)
      throws Exception {
    // bench/compare writes NA where every run of a server failed; with the server's bars in fewer
    // scenarios than the others', XChart failed to paint (ArrayIndexOutOfBoundsException).
    Path medians = dir.resolve("medians.tsv");
    Files.writeString(
        medians,
        """
        pingpong-100\tjsock\tNA\tNA\tNA\tNA\t0
        pingpong-100\tnetty-epoll\t74759\t5279.7\t9.764\t292.28\t0
        pingpong-100\tc-epoll\t90000\t4000.1\t5.1\t4\t0
        udp\tjsock\t60000\t900.5\t6.2\t500\t0
        udp\tnetty-epoll\t50000\t1000.5\t7.1\t1700\t0
        udp\tc-epoll\tNA\tNA\tNA\tNA\t0
        """);

    ResultsChart.main(new String[] {medians.toString(), dir.toString()});

    for (String chart : new String[] {"throughput.png", "p99.png", "cpu.png"}) {
      assertThat(ImageIO.read(dir.resolve(chart).toFile())).as(chart).isNotNull();
    }
  }

  @Test
  void wrongArgumentsSayHowToCallIt() {
    assertThatThrownBy(() -> ResultsChart.main(new String[] {"only-one"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("usage: ResultsChart MEDIANS.tsv OUTPUT-DIR");
  }
}
