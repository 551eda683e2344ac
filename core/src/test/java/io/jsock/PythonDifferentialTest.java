package io.jsock;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.testing.Loopback;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Differential test: random sequences of socket operations (from fixed seeds) run step by step in
 * python3 ({@code differential.py}) and in jsock, each on its own loopback sockets, and every
 * outcome must match: the value returned (bytes, counts, addresses named by the slot that holds
 * them) or the exception, as Python's class and errno. Python decides whether a blocking receive or
 * accept would wait (then both skip it), so no step waits for ever.
 *
 * <p>An exploration tool rather than a regression test: whether a step would wait, and whether a
 * non-blocking connect on loopback has finished, depend on timing, so it runs only when asked:
 * {@code DIFFERENTIAL_SEQUENCES=300 DIFFERENTIAL_FIRST=0 mvn -B -o test -pl core
 * -Dtest=PythonDifferentialTest} (300 sequences take about a minute). Differences that README's
 * "Differences from Python" documents, and Linux quirks jsock does not copy (a failed {@code send}
 * on an unconnected UDP socket binds it; {@code shutdown} of one raises {@code ENOTCONN} yet shuts
 * it down), are left out or stop the sequence without a report. The operations include timeouts of
 * 1 ms to 0.2 s, a bind to port 0 (or the empty AF_UNIX path) before a connect, the wildcard
 * address, a peer's reset (SO_LINGER 0, then close), sendto and recvfrom on streams (recvfrom(0),
 * the readiness question, too), a few options set and read (also between failed non-blocking and
 * timeout-mode connects and the connects after them), listen(0), SHUT_WR twice then SHUT_RDWR, and
 * the unread byte count ({@code available()} against {@code ioctl(FIONREAD)}), {@code
 * socketpair()}, {@code recvfrom_into}, {@code recv_into} with nbytes, a line written and read
 * through {@code makefile} (in blocking and timeout modes, as Python's needs), and {@code sendfile}
 * of a small file.
 *
 * <p>One selector a sequence ({@code selectors.DefaultSelector} against {@link SocketSelector}):
 * sockets registered for read, write or both (the key's data is the slot's name), modified,
 * unregistered, and selects with a timeout of 0, compared as the sorted slots and events they
 * report. A socket given to a drainer is unregistered first (its readiness is the drainer's
 * timing). Python keys its map by descriptor, so a socket closed while registered holds its number
 * there, and a new socket that takes it cannot register ({@code KeyError}): Python's answer is then
 * {@code E:KeyError:stale}, which ends the sequence.
 *
 * <p>Sends larger than the socket buffers ({@code bigsend}) go to a peer that a drainer reads on a
 * thread of its own ({@code drain P K}: to the end, or K bytes and then a reset, which cuts a
 * blocking send short); {@code drained P} compares what it read (count, CRC-32, how it ended). A
 * python step that waits more than a second is cut off (SIGALRM) and answered STOP, which ends the
 * sequence on both sides; a send in non-blocking or timeout mode ends it too, as how much goes at
 * once is timing. Only the epoll path runs it (the portable path's documented differences are not
 * filtered).
 */
@EnabledIfEnvironmentVariable(named = "DIFFERENTIAL_SEQUENCES", matches = "\\d+")
class PythonDifferentialTest {
  private static final int FIRST =
      Integer.parseInt(System.getenv().getOrDefault("DIFFERENTIAL_FIRST", "0"));
  private static final int SEQUENCES =
      Integer.parseInt(System.getenv().getOrDefault("DIFFERENTIAL_SEQUENCES", "300"));
  private static final int STEPS = 12;
  private static final List<Integer> BIG_SENDS = List.of(65536, 300000, 3000000);
  private static final List<String> DRAINS = List.of("0", "1000", "100000", "ALL", "ALL");
  private static final List<String> EVENTS = List.of("r", "w", "rw");

  @TempDir Path pyDir;
  @TempDir Path javaDir;

  private final Map<String, Socket> socks = new HashMap<>();
  private final Map<String, SocketAddress> addrs = new LinkedHashMap<>();
  private final Map<String, InetSocketAddress> nobody = new HashMap<>();
  private final Map<String, Drainer> drainers = new HashMap<>();
  private final List<Drainer> retired = new ArrayList<>();
  private SocketSelector selector;
  private int counter;
  private int sequence;

  @Test
  void jsockAnswersAsPythonStepByStep() throws Exception {
    // the portable path's documented differences (a shutdown of an unconnected stream is
    // ENOTCONN there, as on BSD) are not filtered: Linux's answers are compared on the epoll path
    org.junit.jupiter.api.Assumptions.assumeFalse(Boolean.getBoolean("jsock.selectorPoller"));
    Path script = Path.of(getClass().getResource("/differential.py").toURI());
    for (Family f : List.of(Family.AF_INET, Family.AF_INET6)) {
      for (SocketKind k : SocketKind.values()) {
        nobody.put(f + " " + k, new InetSocketAddress(Loopback.ip(f), Loopback.unusedPort(f, k)));
      }
    }
    Process python =
        new ProcessBuilder(
                "python3",
                script.toString(),
                pyDir.toString(),
                "" + nobody.get("AF_INET SOCK_STREAM").getPort(),
                "" + nobody.get("AF_INET6 SOCK_STREAM").getPort(),
                "" + nobody.get("AF_INET SOCK_DGRAM").getPort(),
                "" + nobody.get("AF_INET6 SOCK_DGRAM").getPort())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    ExecutorService runner = Executors.newVirtualThreadPerTaskExecutor();
    List<String> differences = new ArrayList<>();
    try (BufferedReader fromPython =
            new BufferedReader(new InputStreamReader(python.getInputStream(), UTF_8));
        Writer toPython = new OutputStreamWriter(python.getOutputStream(), UTF_8)) {
      for (int seed = FIRST; seed < FIRST + SEQUENCES; seed++) {
        // java.util.Random's first draws from nearby seeds hardly differ (seeds 0 to 1499 drew
        // shapes 2 and 3 only: no TCP sequence at all), so the seed is mixed first
        List<String> ops = generate(new Random(new SplittableRandom(seed).nextLong()));
        StringBuilder trace = new StringBuilder();
        resetJava();
        sequence = seed;
        for (String op : ops) {
          toPython.write(op + "\n");
          toPython.flush();
          String expected = fromPython.readLine();
          String actual;
          if ("STOP".equals(expected)) {
            break; // python waited more than a second: the step would wait
          }
          if ("SKIP".equals(expected)) {
            actual = "SKIP";
          } else {
            Future<String> step = runner.submit(() -> run(op));
            try {
              actual = step.get(2, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
              actual = "HANG";
              resetJava();
            }
          }
          trace.append("  ").append(op).append(" -> ").append(expected);
          if (!expected.equals(actual) && known(op, expected, actual, trace.toString())) {
            break;
          }
          if (!expected.equals(actual)) {
            trace.append("   jsock: ").append(actual);
            differences.add("seed " + seed + ":\n" + trace);
            System.err.println("DIFF seed " + seed + ":\n" + trace);
            break;
          }
          trace.append('\n');
          if (expected.equals("SENT")) {
            break; // a send in non-blocking or timeout mode: its count is timing, the rest too
          }
        }
        toPython.write("reset " + (seed + 1) + "\n");
        toPython.flush();
        fromPython.readLine();
      }
    } finally {
      resetJava();
      selector.close();
      runner.shutdownNow();
      python.destroy();
    }
    assertThat(differences).isEmpty();
  }

  private static List<String> generate(Random random) {
    List<String> ops = new ArrayList<>();
    int shape = random.nextInt(4);
    List<String> options =
        shape == 2
            ? List.of("SO_RCVBUF")
            : List.of("SO_REUSEADDR", "SO_KEEPALIVE", "SO_RCVBUF", "TCP_NODELAY");
    List<String> slots;
    if (shape == 3) {
      slots = List.of("A", "B", "C");
      for (String s : slots) {
        ops.add("new " + s + " AF_INET SOCK_DGRAM");
      }
      ops.add("bind A");
      ops.add("bind B");
    } else {
      String family = List.of("AF_INET", "AF_INET6", "AF_UNIX").get(shape);
      slots = List.of("L", "C1", "C2", "S1", "S2");
      ops.add("new L " + family + " SOCK_STREAM");
      ops.add("bind L");
      ops.add(random.nextInt(3) == 0 ? "listen L 0" : "listen L"); // 0: one queued
      ops.add("new C1 " + family + " SOCK_STREAM");
      ops.add("new C2 " + family + " SOCK_STREAM");
      boolean connected = random.nextInt(3) > 0;
      if (connected) {
        ops.add("connect C1 L");
        ops.add("accept L S1");
      }
      if (random.nextInt(4) == 0) {
        ops.add("bind C2"); // a client bound to port 0 (or a path) before it connects
      }
      if (random.nextInt(4) == 0) {
        failedConnectThenOptions(random, options, ops);
      }
      if (connected && random.nextInt(6) == 0) {
        String s = random.nextBoolean() ? "C1" : "S1";
        ops.add("shutdown " + s + " SHUT_WR");
        ops.add("shutdown " + s + " SHUT_WR");
        ops.add("shutdown " + s + " SHUT_RDWR");
      }
      if (connected && random.nextInt(4) == 0) {
        ops.add("send C1 " + (1 + random.nextInt(5))); // bytes queued for unread to count
        ops.add("unread S1");
        ops.add("recv S1 1");
        ops.add("unread S1");
      }
      if (connected && random.nextInt(3) == 0) {
        bigSendsToADrainer(random, ops);
      }
      if (shape == 2 && random.nextInt(3) == 0) {
        ops.add("pair C2 S2"); // Python's socketpair(): a connected AF_UNIX pair
      }
    }
    if (random.nextBoolean()) {
      for (String s : slots) {
        if (random.nextInt(3) > 0) {
          ops.add("register " + s + " " + EVENTS.get(random.nextInt(EVENTS.size())));
        }
      }
      ops.add("select -");
    }
    int steps = 1 + random.nextInt(STEPS);
    for (int i = 0; i < steps; i++) {
      String s = slots.get(random.nextInt(slots.size()));
      String target =
          random.nextInt(5) == 0
              ? "N"
              : shape == 3 ? slots.get(random.nextInt(2)) : random.nextInt(4) == 0 ? "C1" : "L";
      int n = List.of(0, 1, 3, 16).get(random.nextInt(4));
      int k = 1 + random.nextInt(5);
      String option =
          shape == 3
              ? List.of("SO_REUSEADDR", "SO_RCVBUF", "SO_BROADCAST").get(random.nextInt(3))
              : options.get(random.nextInt(options.size()));
      String op =
          switch (random.nextInt(40)) {
            case 0, 17 -> "connect " + s + " " + target;
            case 1, 18 -> "connect_ex " + s + " " + target;
            case 2 -> "accept L " + (random.nextBoolean() ? "S1" : "S2");
            case 3 -> "send " + s + " " + k;
            case 4 -> "sendall " + s + " " + k;
            case 5 -> "recv " + s + " " + n;
            case 6 -> "recv_into " + s + " " + n;
            case 7 ->
                "shutdown "
                    + s
                    + " "
                    + List.of("SHUT_RD", "SHUT_WR", "SHUT_RDWR").get(random.nextInt(3));
            case 8 -> "close " + s;
            case 9 -> "setblocking " + s + " " + random.nextInt(2);
            case 10 ->
                "settimeout "
                    + s
                    + " "
                    + List.of("None", "0", "0.05", "0.001", "0.01", "0.2").get(random.nextInt(6));
            case 11 -> (random.nextBoolean() ? "getsockname " : "getpeername ") + s;
            case 12 -> (random.nextBoolean() ? "getblocking " : "gettimeout ") + s;
            case 13 -> "bind " + s;
            case 14 -> "listen " + s;
            case 15 -> "recvfrom " + s + " " + n;
            case 16 -> "sendto " + s + " " + k + " " + target;
            case 19 -> "bindany " + s; // AF_UNIX: the empty path (autobind); else the wildcard
            case 20 -> (shape == 3 ? "close " : "abort ") + s; // SO_LINGER 0, then close: a reset
            case 21 -> "setsockopt " + s + " " + option + " " + random.nextInt(2);
            case 23 -> "bigsend " + s + " " + BIG_SENDS.get(random.nextInt(BIG_SENDS.size()));
            case 24 -> "drain " + s + " " + DRAINS.get(random.nextInt(DRAINS.size()));
            case 25 -> "drained " + s;
            case 26 -> "unread " + s;
            case 27 -> "recvfrom " + s + " 0"; // a stream's readiness question
            case 28 -> "listen " + s + " 0";
            case 29, 30 -> "register " + s + " " + EVENTS.get(random.nextInt(EVENTS.size()));
            case 31 -> "modify " + s + " " + EVENTS.get(random.nextInt(EVENTS.size()));
            case 32 -> "unregister " + s;
            case 33, 34, 35 -> "select -"; // always a timeout of 0
            case 36 -> "recvfrom_into " + s + " " + n;
            case 37 -> "recv_into_n " + s + " " + List.of(0, 1, 3).get(random.nextInt(3));
            case 38 -> random.nextBoolean() ? "readline " + s : "writeline " + s + " " + k;
            case 39 -> "sendfile " + s + " " + List.of(1, 5, 1000).get(random.nextInt(3));
            default -> "getsockopt " + s + " " + option;
          };
      if (shape == 3
          && (op.startsWith("accept")
              || op.startsWith("listen")
              || op.startsWith("shutdown")
              || op.startsWith("drain")
              || op.matches("(read|write)line .*"))) {
        op = "recvfrom " + s + " 16";
      }
      ops.add(op);
    }
    return ops;
  }

  /**
   * A non-blocking or timeout-mode connect to the refusing port, options read and set after it, and
   * connects again: python3 gives EINPROGRESS, then ECONNREFUSED, then ECONNABORTED (timeout mode:
   * refused, then aborted) on the one socket.
   */
  private static void failedConnectThenOptions(
      Random random, List<String> options, List<String> ops) {
    ops.add("settimeout C2 " + (random.nextBoolean() ? "0" : "0.05"));
    ops.add((random.nextBoolean() ? "connect_ex" : "connect") + " C2 N");
    for (int i = random.nextInt(3); i >= 0; i--) {
      String option = options.get(random.nextInt(options.size()));
      ops.add(
          random.nextBoolean()
              ? "getsockopt C2 " + option
              : "setsockopt C2 " + option + " " + random.nextInt(2));
    }
    for (int i = random.nextInt(3); i >= 0; i--) {
      ops.add("connect_ex C2 " + (random.nextInt(3) == 0 ? "L" : "N"));
      if (random.nextBoolean()) {
        ops.add("getsockopt C2 " + options.get(random.nextInt(options.size())));
      }
    }
  }

  /**
   * Sends larger than the socket buffers, blocking, to a peer that a drainer reads (to the end, or
   * K bytes and then a reset, which cuts the send short), then what the next calls say.
   */
  private static void bigSendsToADrainer(Random random, List<String> ops) {
    boolean clientSends = random.nextBoolean();
    String sender = clientSends ? "C1" : "S1";
    String reader = clientSends ? "S1" : "C1";
    ops.add("drain " + reader + " " + DRAINS.get(random.nextInt(DRAINS.size())));
    for (int i = random.nextInt(2); i >= 0; i--) {
      ops.add("bigsend " + sender + " " + BIG_SENDS.get(random.nextInt(BIG_SENDS.size())));
    }
    ops.add(
        switch (random.nextInt(4)) {
          case 0 -> "send " + sender + " 3";
          case 1 -> "recv " + sender + " 16";
          case 2 -> "recvfrom " + sender + " 0";
          default -> "unread " + sender;
        });
    if (random.nextBoolean()) {
      ops.add("shutdown " + sender + " SHUT_WR");
      ops.add("drained " + reader);
    }
  }

  /**
   * Differences README's "Differences from Python" documents: among them SO_KEEPALIVE and
   * SO_REUSEADDR on AF_UNIX (not generated), and the abstract names of Linux's autobind, which
   * jsock names {@code ""} and cannot listen on. An AF_UNIX connect of a connected or listening
   * socket to a socket file that refuses (no listener there, or one shut down for reading) is
   * EISCONN or EINVAL in jsock, ECONNREFUSED in Linux, which looks at the listener first: jsock
   * cannot ask without connecting (so too EAGAIN, where the listener's queue is full). The input
   * stream's {@code available()}, compared with Python's {@code ioctl(FIONREAD)}, throws what a
   * receive throws on a stream that is not connected (Linux counts 0 bytes); on a closed socket
   * Python's {@code fcntl} refuses the descriptor -1 with {@code ValueError}. TCP listeners and the
   * sockets they accept have SO_REUSEADDR on. The selector's and {@code sendfile}'s differences in
   * README: a listener watched for write (reported by Python once a shutdown stopped it), {@code
   * ValueError} for a closed socket's descriptor -1 in CPython; and a bind of a {@code
   * socketPair}'s accepted end.
   */
  private static boolean known(String op, String expected, String actual, String trace) {
    if (expected.equals("E:KeyError:stale")) {
      return true; // a descriptor number Python's selector still holds for a closed socket
    }
    boolean autobound = trace.contains("AF_UNIX") && trace.contains("bindany ");
    return autobound
            && (op.startsWith("listen") && actual.equals("E:OSError:22")
                || expected.contains("A:abstract") && actual.contains("A:unnamed"))
        || op.matches("(accept|recv\\S*|send\\S*|bigsend|readline|writeline) L( .*)?")
            && expected.equals("E:TimeoutError:None")
            && actual.matches("E:\\w+:(22|107|95|32)")
        || trace.contains("AF_UNIX")
            && op.startsWith("connect")
            && (expected.endsWith("111") || expected.matches("(E:BlockingIOError:)?11"))
            && (actual.endsWith("106") || actual.endsWith("22"))
        || racesADrainersReset(op, expected, actual, trace)
        || op.startsWith("unread")
            && expected.matches("0|E:OSError:22")
            && actual.matches("E:OSError:(22|107)")
        || op.matches("getsockopt (L|S1|S2) SO_REUSEADDR")
            && expected.equals("0")
            && actual.equals("1")
        || op.matches("getsockopt C\\d SO_REUSEADDR")
            && expected.equals("0")
            && actual.equals("1")
            && trace.contains("listen " + op.split(" ")[1])
        || op.startsWith("unread") && expected.equals("E:ArgError") && actual.equals("E:OSError:9")
        || op.matches("recv(_into|from)? \\S+ 0") && actual.equals("E:OSError:9")
        || actual.equals("E:OSError:95") && op.startsWith("shutdown")
        || actual.equals("E:OSError:106") && op.startsWith("sendto")
        || actual.equals("E:OSError:90")
        || op.matches("bind(any)? C.*") && expected.equals("None") && actual.equals("E:OSError:22")
        || op.matches("bind(any)? C") && expected.equals("E:OSError:22") && actual.equals("None")
        || op.equals("getsockname C") && expected.endsWith(":eph") && actual.endsWith(":0")
        || op.startsWith("recvfrom") && expected.endsWith(" None") && !actual.endsWith(" None")
        || op.matches("(sendfile|register) .*")
            && expected.equals("E:ArgError")
            && actual.equals("E:OSError:9")
        || op.matches("(unregister|modify) .*")
            && expected.equals("E:ArgError")
            && actual.equals("E:KeyError")
        || op.matches("bind(any)? (C2|S2)")
            && trace.contains("pair C2 S2")
            && expected.equals("None")
            && actual.equals("E:OSError:22")
        || op.equals("select -")
            && trace.matches("(?s).*shutdown L SHUT_(RD|RDWR).*")
            && expected
                .replaceAll("\\bL:rw\\b", "L:r")
                .replaceAll("\\bL:w\\b,?", "")
                .replaceAll(",$", "")
                .equals(actual);
  }

  /**
   * A drainer that resets its socket after K bytes does so on its own thread: until a send was cut
   * short by it (PART), whether a later send or receive on the peer meets it is timing. So is, over
   * AF_UNIX, whether the send cut short took the reset (the next receive gives b'') or left it
   * (ECONNRESET): Linux's send(2) takes it when the close wakes it from its wait for room, and
   * leaves it when the close comes while it copies (python3 gives either here: the drainer reads
   * while the send copies; JdkRegressionsTest has a send that waits).
   */
  private static boolean racesADrainersReset(
      String op, String expected, String actual, String trace) {
    String outcome =
        "\\d+|PART|None|EOF|(b|\\d+):\\p{XDigit}*( A:\\S+)?"
            + "|E:(BrokenPipeError:32|ConnectionResetError:104|OSError:107)";
    String earlier = trace.substring(0, trace.lastIndexOf('\n') + 1); // the steps before this
    return endsOnItsOwn(earlier)
        && (!earlier.contains("-> PART") || trace.contains("AF_UNIX"))
        && op.matches("(bigsend|send\\S*|recv\\S*|readline|writeline|shutdown|getpeername) .*")
        && expected.matches(outcome)
        && actual.matches(outcome);
  }

  /**
   * Whether a drainer closes its socket while the sequence goes on: one that resets after K bytes,
   * or one that reads to the end of a socket shut down for reading, which comes at once.
   */
  private static boolean endsOnItsOwn(String trace) {
    java.util.regex.Matcher drain =
        java.util.regex.Pattern.compile("\\bdrain (\\S+) (\\S+) ->").matcher(trace);
    while (drain.find()) {
      if (!drain.group(2).equals("0") && !drain.group(2).equals("ALL")
          || trace.contains("shutdown " + drain.group(1) + " SHUT_RD")) {
        return true;
      }
    }
    return false;
  }

  private void resetJava() {
    retired.addAll(drainers.values());
    for (Drainer d : retired) {
      d.stop();
    }
    drainers.clear();
    retired.clear();
    for (Socket s : socks.values()) {
      try {
        s.close();
      } catch (IOException e) {
        // closing for the next sequence
      }
    }
    socks.clear();
    addrs.clear();
    counter = 0;
    try {
      if (selector != null) {
        selector.close();
      }
      selector = SocketSelector.open();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private byte[] data(int n) {
    counter++;
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) ((counter * 7 + i) % 26 + 97);
    }
    return b;
  }

  /**
   * A thread that reads a stream socket, in blocking mode, to its end, or {@code limit} bytes and
   * then resets it (SO_LINGER 0 and close; AF_UNIX: close, a reset with bytes unread), and says how
   * many bytes it read, their CRC-32 and how it ended.
   */
  private static final class Drainer {
    private final Socket socket;
    private final Thread thread;
    private volatile String result;

    Drainer(Socket socket, long limit) {
      this.socket = socket;
      Runnable draining = () -> result = drain(limit);
      this.thread = Thread.ofVirtual().unstarted(draining);
      if (limit == 0) {
        draining.run(); // a reset at once, before the next step: no thread to race it
      } else {
        thread.start();
      }
    }

    private String drain(long limit) {
      long count = 0;
      CRC32 crc = new CRC32();
      String end = "EOF";
      try {
        while (true) {
          if (count >= limit) {
            end = "K";
            if (socket.family() != Family.AF_UNIX) {
              socket.setSockOpt(StandardSocketOptions.SO_LINGER, 0);
            }
            break;
          }
          byte[] d = socket.recv((int) Math.min(65536, limit - count));
          if (d.length == 0) {
            break;
          }
          count += d.length;
          crc.update(d);
        }
      } catch (IOException e) {
        end = outcome(e);
      }
      try {
        socket.close();
      } catch (IOException e) {
        end += " close: " + outcome(e);
      }
      return String.format("D:%d:%08x:%s", count, crc.getValue(), end);
    }

    /** What it read, once it has ended within a second and a half; RUNNING if it has not. */
    String result() throws InterruptedException {
      if (thread.getState() != Thread.State.NEW) {
        thread.join(Duration.ofMillis(1500));
      }
      return thread.isAlive() ? "RUNNING" : result;
    }

    void stop() {
      try {
        socket.close();
        if (thread.getState() != Thread.State.NEW) {
          thread.join(Duration.ofSeconds(2));
        }
      } catch (IOException | InterruptedException e) {
        // ending the sequence
      }
    }
  }

  private String run(String line) {
    String[] w = line.split(" ");
    try {
      return step(w[0], w[1], w);
    } catch (SocketTimeoutException e) {
      return "E:TimeoutError:None";
    } catch (IllegalArgumentException | NullPointerException e) {
      return "E:ArgError";
    } catch (IOException e) {
      return outcome(e);
    } catch (RuntimeException e) {
      return "E:" + e.getClass().getSimpleName() + "(" + e.getMessage() + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "INTERRUPTED";
    }
  }

  /** An exception as Python's class and errno, as differential.py prints them. */
  private static String outcome(IOException e) {
    if (e instanceof SocketTimeoutException) {
      return "E:TimeoutError:None";
    }
    String name =
        switch (e) {
          case WouldBlockException x -> "BlockingIOError";
          case ConnectionRefusedException x -> "ConnectionRefusedError";
          case ConnectionResetException x -> "ConnectionResetError";
          case ConnectionAbortedException x -> "ConnectionAbortedError";
          case BrokenPipeException x -> "BrokenPipeError";
          case AddressInUseException x -> "OSError";
          case ClosedSocketException x -> "OSError";
          case ErrnoException x -> "OSError";
          default -> e.getClass().getSimpleName() + "(" + e.getMessage() + ")";
        };
    return "E:" + name + ":" + (e instanceof SocketError err ? err.errno() : "?");
  }

  private String step(String op, String name, String[] w) throws IOException, InterruptedException {
    if (op.equals("drained")) {
      Drainer d = drainers.get(name);
      if (d == null) {
        return "NOSLOT";
      }
      String result = d.result();
      if (!result.equals("RUNNING")) {
        drainers.remove(name);
      }
      return result;
    }
    if (op.equals("new")) {
      Socket old = socks.remove(name);
      if (old != null) {
        closing(old);
      }
      socks.put(name, Socket.create(Family.valueOf(w[2]), SocketKind.valueOf(w[3])));
      return "ok";
    }
    if (op.equals("select")) {
      List<String> ready = new ArrayList<>();
      for (Ready r : selector.select(Duration.ZERO)) {
        ready.add(r.key().data() + ":" + events(r.events()));
      }
      return "R:" + String.join(",", ready.stream().sorted().toList());
    }
    if (op.equals("pair")) {
      for (String slot : List.of(name, w[2])) {
        Socket old = socks.remove(slot);
        if (old != null) {
          closing(old);
        }
      }
      Socket[] pair = Sockets.socketPair();
      socks.put(name, pair[0]);
      socks.put(w[2], pair[1]);
      return "ok";
    }
    Socket s = socks.get(name);
    if (s == null) {
      return "NOSLOT";
    }
    switch (op) {
      case "register", "modify", "unregister" -> {
        return selecting(op, name, s, w);
      }
      case "recv_into_n" -> {
        byte[] buf = new byte[16];
        int n = s.recvInto(buf, Integer.parseInt(w[2]));
        return n + ":" + HexFormat.of().formatHex(buf, 0, n);
      }
      case "recvfrom_into" -> {
        ByteBuffer buf = ByteBuffer.allocate(Integer.parseInt(w[2]));
        SocketAddress from = s.recvFromInto(buf);
        return buf.position()
            + ":"
            + HexFormat.of().formatHex(buf.array(), 0, buf.position())
            + " "
            + norm(from);
      }
      case "readline" -> {
        try (BufferedReader lines = s.makeFile("r")) {
          String line = lines.readLine();
          return line == null ? "EOF" : "L:" + line;
        }
      }
      case "writeline" -> {
        String line = new String(data(Integer.parseInt(w[2])), UTF_8) + "\n";
        try (Writer lines = s.makeFile("w")) {
          lines.write(line);
          lines.flush();
        }
        return "None";
      }
      case "sendfile" -> {
        counter++;
        Path file = javaDir.resolve("file-" + sequence + "-" + counter);
        Files.write(file, data(Integer.parseInt(w[2])));
        return "" + s.sendFile(file);
      }
      default -> {
        // the calls below
      }
    }
    switch (op) {
      case "bind" -> {
        counter++;
        s.bind(
            switch (s.family()) {
              case AF_UNIX ->
                  UnixDomainSocketAddress.of(
                      javaDir.resolve(sequence + "-" + name + "-" + counter));
              case AF_INET6 -> new InetSocketAddress("::1", 0);
              default -> new InetSocketAddress("127.0.0.1", 0);
            });
        addrs.put(name, s.getSockName());
        return "None";
      }
      case "bindany" -> {
        s.bind(
            switch (s.family()) {
              case AF_UNIX -> UnixDomainSocketAddress.of("");
              case AF_INET6 -> new InetSocketAddress("::", 0);
              default -> new InetSocketAddress("0.0.0.0", 0);
            });
        addrs.put(name, s.getSockName());
        return "None";
      }
      case "abort" -> {
        s.setSockOpt(StandardSocketOptions.SO_LINGER, 0);
        closing(s);
        return "None";
      }
      case "setsockopt" -> {
        int v = Integer.parseInt(w[3]);
        switch (w[2]) {
          case "SO_RCVBUF" -> s.setSockOpt(StandardSocketOptions.SO_RCVBUF, 4096 + 4096 * v);
          default -> s.setSockOpt(booleanOption(w[2]), v == 1);
        }
        return "None";
      }
      case "getsockopt" -> {
        if (w[2].equals("SO_RCVBUF")) {
          return "" + s.getSockOpt(StandardSocketOptions.SO_RCVBUF);
        }
        return s.getSockOpt(booleanOption(w[2])) ? "1" : "0";
      }
      case "listen" -> {
        s.listen(w.length > 2 ? Integer.parseInt(w[2]) : 5);
        return "None";
      }
      case "bigsend" -> {
        int size = Integer.parseInt(w[2]);
        int n = s.send(data(size));
        if (s.getTimeout() != null) {
          return n > 0 ? "SENT" : "" + n;
        }
        return n == size ? "" + n : "PART";
      }
      case "drain" -> {
        socks.remove(name);
        if (selector.getMap().containsKey(s)) {
          selector.unregister(s); // its readiness is the drainer's: timing
        }
        Drainer old = drainers.remove(name);
        if (old != null) {
          retired.add(old); // stopped at the sequence's end
        }
        s.setTimeout(null);
        drainers.put(
            name, new Drainer(s, w[2].equals("ALL") ? Long.MAX_VALUE : Long.parseLong(w[2])));
        return "ok";
      }
      case "unread" -> {
        return "" + s.getInputStream().available();
      }
      case "accept" -> {
        Accepted a = s.accept();
        Socket old = socks.remove(w[2]);
        if (old != null) {
          closing(old);
        }
        socks.put(w[2], a.conn());
        return norm(a.address());
      }
      case "connect", "connect_ex" -> {
        SocketAddress target = target(s, w[2]);
        if (target == null) {
          return "NOADDR";
        }
        if (op.equals("connect")) {
          s.connect(target);
          return "None";
        }
        return "" + s.connectEx(target);
      }
      case "send" -> {
        return "" + s.send(data(Integer.parseInt(w[2])));
      }
      case "sendall" -> {
        s.sendAll(data(Integer.parseInt(w[2])));
        return "None";
      }
      case "sendto" -> {
        SocketAddress target = target(s, w[3]);
        if (target == null) {
          return "NOADDR";
        }
        return "" + s.sendTo(data(Integer.parseInt(w[2])), target);
      }
      case "recv" -> {
        return "b:" + HexFormat.of().formatHex(s.recv(Integer.parseInt(w[2])));
      }
      case "recv_into" -> {
        byte[] buf = new byte[Integer.parseInt(w[2])];
        int n = s.recvInto(buf, buf.length);
        return n + ":" + HexFormat.of().formatHex(buf, 0, n);
      }
      case "recvfrom" -> {
        Datagram d = s.recvFrom(Integer.parseInt(w[2]));
        return "b:" + HexFormat.of().formatHex(d.data()) + " " + norm(d.address());
      }
      case "shutdown" -> {
        s.shutdown(Shutdown.valueOf(w[2]));
        return "None";
      }
      case "close" -> {
        closing(s);
        return "None";
      }
      case "setblocking" -> {
        s.setBlocking(w[2].equals("1"));
        return "None";
      }
      case "settimeout" -> {
        s.setTimeout(
            w[2].equals("None")
                ? null
                : Duration.ofNanos(Math.round(Double.parseDouble(w[2]) * 1e9)));
        return "None";
      }
      case "getsockname" -> {
        return norm(s.getSockName());
      }
      case "getpeername" -> {
        return norm(s.getPeerName());
      }
      case "getblocking" -> {
        return s.getBlocking() ? "True" : "False";
      }
      case "gettimeout" -> {
        Duration t = s.getTimeout();
        return t == null ? "None" : t.isZero() ? "0.0" : "" + t.toMillis() / 1000.0;
      }
      default -> {
        return "UNKNOWN " + op;
      }
    }
  }

  /**
   * A selector call as Python's: the key's events (the data is the slot registered from); a socket
   * registered twice, or not registered, is Python's {@code KeyError}.
   */
  private String selecting(String op, String name, Socket s, String[] w) throws IOException {
    try {
      SelectorKey key =
          switch (op) {
            case "register" -> selector.register(s, events(w[2]), name);
            case "modify" -> selector.modify(s, events(w[2]), name);
            default -> selector.unregister(s);
          };
      return "K:" + events(key.events());
    } catch (IllegalArgumentException e) {
      return e.getMessage().contains("registered") ? "E:KeyError" : "E:ArgError";
    }
  }

  /**
   * Closes a socket, unregistered first, as Python's selectors documentation requires: Python's map
   * keeps a socket closed while registered (its descriptor, see above), where jsock's next select
   * drops it (README).
   */
  private void closing(Socket s) throws IOException {
    if (selector.getMap().containsKey(s)) {
      selector.unregister(s);
    }
    s.close();
  }

  private static Set<Event> events(String letters) {
    return switch (letters) {
      case "r" -> Set.of(Event.EVENT_READ);
      case "w" -> Set.of(Event.EVENT_WRITE);
      default -> Set.of(Event.EVENT_READ, Event.EVENT_WRITE);
    };
  }

  private static String events(Set<Event> events) {
    return events.size() == 2 ? "rw" : events.contains(Event.EVENT_READ) ? "r" : "w";
  }

  private static SocketOption<Boolean> booleanOption(String name) {
    return switch (name) {
      case "SO_REUSEADDR" -> StandardSocketOptions.SO_REUSEADDR;
      case "SO_KEEPALIVE" -> StandardSocketOptions.SO_KEEPALIVE;
      case "SO_BROADCAST" -> StandardSocketOptions.SO_BROADCAST;
      default -> StandardSocketOptions.TCP_NODELAY;
    };
  }

  private SocketAddress target(Socket s, String name) {
    if (!name.equals("N")) {
      return addrs.get(name);
    }
    if (s.family() == Family.AF_UNIX) {
      return UnixDomainSocketAddress.of(javaDir.resolve("nobody"));
    }
    return nobody.get(s.family() + " " + s.kind());
  }

  private String norm(SocketAddress a) {
    if (a == null) {
      return "None";
    }
    if (a instanceof UnixDomainSocketAddress u) {
      String path = u.getPath().toString();
      if (path.isEmpty()) {
        return "A:unnamed";
      }
      for (Map.Entry<String, SocketAddress> e : addrs.entrySet()) {
        if (e.getValue().equals(a)) {
          return "A:@" + e.getKey();
        }
      }
      return "A:" + u.getPath().getFileName();
    }
    InetSocketAddress i = (InetSocketAddress) a;
    String host = HexFormat.of().formatHex(i.getAddress().getAddress());
    for (Map.Entry<String, SocketAddress> e : addrs.entrySet()) {
      if (e.getValue() instanceof InetSocketAddress k
          && k.getPort() == i.getPort()
          && i.getPort() != 0) {
        return "A:" + host + ":@" + e.getKey();
      }
    }
    return "A:" + host + ":" + (i.getPort() == 0 ? "0" : "eph");
  }
}
