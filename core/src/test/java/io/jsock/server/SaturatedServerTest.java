package io.jsock.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.jsock.Socket;
import io.jsock.Sockets;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server whose only carrier is kept busy still serves the connections that come meanwhile. The
 * JDK starts a connection's virtual thread through a queue that a busy carrier may pass over for as
 * long as it finds work in another; jsock's epoll lanes hand the carrier back to those queues at
 * the end of each busy turn (docs/benchmarks/FINDINGS.md, "100,000 connections"). As {@code
 * bench/late-connections} does, in small: the server runs in a child JVM ({@link
 * SaturatedEchoServer}) with one carrier, on one CPU beside a busy loop, with the platform thread
 * that wakes idle lanes at real-time priority so that it wins every race it can (the worst case, in
 * which connections that came while the carrier was busy waited until the load stopped); this JVM
 * pings over {@value #LOAD} connections, and {@value #LATE} more come while it does. With the lanes
 * as they were before (f30dd9d) it failed 3 runs of 3: the late connections were served only after
 * 122 to 207 round trips of each of the load's, or not within 10 s; since, after 2 to 4. Needs
 * taskset, chrt and the right to use real-time priority (root, as in CI).
 */
class SaturatedServerTest {
  private static final int LOAD = 200;
  private static final int LATE = 20;
  private static final byte[] MESSAGE = "0123456789abcdef".repeat(4).getBytes(UTF_8);

  @Test
  void connectionsThatComeWhileTheOnlyCarrierIsBusyAreServed(@TempDir Path dir) throws Exception {
    assumeThat(System.getProperty("jsock.selectorPoller")).isNull(); // the child runs epoll anyway
    assumeThat(Runtime.getRuntime().availableProcessors())
        .as("a CPU for the load")
        .isGreaterThan(1);
    assumeThat(Path.of("/usr/bin/taskset")).exists();
    assumeThat(Path.of("/usr/bin/chrt")).exists();
    assumeThat(new ProcessBuilder("/usr/bin/chrt", "-f", "1", "true").start().waitFor())
        .as("real-time priority allowed")
        .isZero();
    Path stderr = dir.resolve("stderr.txt");
    List<Process> started = new ArrayList<>();
    AtomicBoolean running = new AtomicBoolean(true);
    List<Thread> load = new ArrayList<>();
    try {
      started.add(
          new ProcessBuilder("/usr/bin/taskset", "-c", "0", "sh", "-c", "while :; do :; done")
              .start());
      Process server =
          new ProcessBuilder(
                  List.of(
                      "/usr/bin/taskset",
                      "-c",
                      "0",
                      Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                      "--enable-native-access=ALL-UNNAMED",
                      "--add-exports",
                      "java.base/sun.nio.ch=ALL-UNNAMED",
                      "-Djdk.virtualThreadScheduler.parallelism=1",
                      "-cp",
                      Path.of("target/classes")
                          + File.pathSeparator
                          + Path.of("target/test-classes"),
                      SaturatedEchoServer.class.getName()))
              .redirectError(stderr.toFile())
              .start();
      started.add(server);
      BufferedReader out =
          new BufferedReader(new InputStreamReader(server.getInputStream(), UTF_8));
      String portLine = out.readLine();
      assertThat(portLine).as(Files.readString(stderr)).startsWith("PORT ");
      assertThat(out.readLine()).isEqualTo("POLLER jsock-epoll");
      assertThat(runAtRealTimePriority(server.pid(), "jsock-epoll")).isZero();
      InetSocketAddress address =
          new InetSocketAddress("127.0.0.1", Integer.parseInt(portLine.substring(5)));

      AtomicLong echoes = new AtomicLong();
      for (int i = 0; i < LOAD; i++) {
        Socket conn = Sockets.createConnection(address);
        conn.setTimeout(Duration.ofSeconds(60));
        load.add(Thread.ofPlatform().daemon().start(() -> pingPong(conn, running, echoes)));
      }
      Thread.sleep(1000);
      List<Socket> late = new ArrayList<>();
      for (int i = 0; i < LATE; i++) {
        late.add(Sockets.createConnection(address));
      }
      long before = echoes.get();
      for (Socket conn : late) {
        conn.sendAll(MESSAGE);
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      int served = 0;
      long longestWait = 0; // in echoes the load had meanwhile
      for (Socket conn : late) {
        try (conn) {
          conn.setTimeout(Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime())));
          if (Arrays.equals(TcpServerTest.recvExactly(conn, MESSAGE.length), MESSAGE)) {
            served++;
            longestWait = echoes.get() - before;
          }
        } catch (IOException timedOut) {
          // not served within 10 s: counted as such
        }
      }
      long meanwhile = echoes.get() - before;

      assertThat(meanwhile).as("echoes to the load while the late connections waited").isPositive();
      assertThat(served).as("late connections served").isEqualTo(LATE);
      // Served in their turn: before each of the load's connections had 20 more round trips.
      assertThat(longestWait)
          .as("the load's echoes before the last late one")
          .isLessThan(20L * LOAD);
    } finally {
      running.set(false);
      for (Thread thread : load) {
        thread.join(Duration.ofSeconds(70));
      }
      for (Process process : started) {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      }
    }
  }

  private static void pingPong(Socket conn, AtomicBoolean running, AtomicLong echoes) {
    try (conn) {
      while (running.get()) {
        conn.sendAll(MESSAGE);
        TcpServerTest.recvExactly(conn, MESSAGE.length);
        echoes.incrementAndGet();
      }
    } catch (IOException e) {
      if (running.get()) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** Gives {@code pid}'s thread named {@code name} real-time priority; returns chrt's exit code. */
  private static int runAtRealTimePriority(long pid, String name)
      throws IOException, InterruptedException {
    try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : tasks.toList()) {
        if (Files.readString(task.resolve("comm")).strip().equals(name)) {
          return new ProcessBuilder("/usr/bin/chrt", "-f", "-p", "1", task.getFileName().toString())
              .inheritIO()
              .start()
              .waitFor();
        }
      }
    }
    throw new AssertionError("no thread named " + name + " in process " + pid);
  }
}
