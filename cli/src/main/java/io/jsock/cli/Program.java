package io.jsock.cli;

import static io.jsock.NameInfoFlag.NI_NUMERICHOST;
import static io.jsock.NameInfoFlag.NI_NUMERICSERV;

import io.jsock.Family;
import io.jsock.NameInfo;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.Sockets;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The program {@code -e PROGRAM} or {@code -c COMMAND} runs for each connection, as ncat's {@code
 * --exec} and {@code --sh-exec}: its stdin receives what the peer sends, what it writes to stdout
 * goes to the peer, its stderr is jsock's. It sees the connection's addresses in {@code
 * JSOCK_REMOTE_ADDR}, {@code JSOCK_REMOTE_PORT}, {@code JSOCK_LOCAL_ADDR}, {@code JSOCK_LOCAL_PORT}
 * and {@code JSOCK_PROTO} (ncat's {@code NCAT_} variables under jsock's name).
 *
 * <p>Every program started is waited for; those still running when jsock is stopped (Ctrl-C,
 * SIGTERM) are destroyed, so that none outlives it unseen, and their status (143) is not reported
 * as a failure: it is jsock's own doing.
 */
final class Program {
  /**
   * How long a program has to end on its own once its connection is done, and after SIGTERM (as
   * jsock ends, or when it outlives its connection) before SIGKILL.
   */
  private static final Duration GRACE = Duration.ofSeconds(1);

  /** The JDK's exit value of a process killed by SIGPIPE: 128 plus the signal's number, 13. */
  private static final int KILLED_BY_SIGPIPE = 141;

  private static final Set<Process> running = ConcurrentHashMap.newKeySet();

  /** The programs the shutdown hook ended: their status is jsock's signal's, not theirs. */
  private static final Set<Process> endedAsJsockEnds = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(Program::destroyRunning, "jsock programs"));
  }

  private final List<String> command;
  private final String name;

  private Program(List<String> command, String name) {
    this.command = List.copyOf(command);
    this.name = name;
  }

  /**
   * {@code -e}: a program and its arguments split on blanks, a backslash keeping the next character
   * as it is ({@code my\ tool} is one word), as ncat splits them; no shell.
   */
  static Program exec(String line) {
    List<String> words = words(line);
    if (words.isEmpty()) {
      throw new IllegalArgumentException("--exec: no program given");
    }
    return new Program(words, words.getFirst());
  }

  /**
   * The words of {@code -e}'s line, exactly as Ncat 7.93's {@code cmdline_split} makes them: blanks
   * are C's {@code isspace} ones; a backslash keeps the next character, and one that ends the line
   * is dropped; blanks right after an escaped ASCII character other than a backslash are skipped,
   * the word going on ({@code a\x b} is the one word {@code axb}: ncat's quirk, kept so that a line
   * ncat ran runs the same program). Ncat escapes one byte, so after an escaped character of
   * several UTF-8 bytes the blanks end the word as usual ({@code \é b} is two words).
   */
  static List<String> words(String line) {
    List<String> words = new ArrayList<>();
    StringBuilder word = new StringBuilder();
    int i = 0;
    while (i < line.length()) {
      while (i < line.length() && isBlank(line.charAt(i))) {
        i++;
      }
      if (i == line.length()) {
        break;
      }
      while (i < line.length() && !isBlank(line.charAt(i))) {
        char c = line.charAt(i++);
        if (c != '\\') {
          word.append(c);
          continue;
        }
        if (i == line.length()) {
          break; // a backslash at the end: dropped
        }
        char escaped = line.charAt(i++);
        word.append(escaped);
        // ncat escapes one byte: after the first of a character's several UTF-8 bytes comes no
        // blank, so only an ASCII character has the blanks after it skipped
        boolean oneByte = escaped < 0x80;
        while (oneByte && escaped != '\\' && i < line.length() && isBlank(line.charAt(i))) {
          i++;
        }
      }
      words.add(word.toString());
      word.setLength(0);
    }
    return words;
  }

  /** C's {@code isspace} in the C locale, which ncat splits on. */
  private static boolean isBlank(char c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
  }

  /** {@code -c}: a command run by {@code /bin/sh -c}. */
  static Program shell(String command) {
    return new Program(List.of("/bin/sh", "-c", command), "/bin/sh -c '" + command + "'");
  }

  /** The program's words, for tests: what {@link ProcessBuilder} is given. */
  List<String> command() {
    return command;
  }

  /** A stream of the program's data, given to {@link #run}: a bridge over its stdin and stdout. */
  interface Join {
    void run(StandardStreams program) throws IOException, InterruptedException;
  }

  /**
   * Starts the program for {@code conn}, lets {@code join} move the data, then closes the program's
   * stdin and waits for it to exit. A program that exits with a status other than 0 fails the run;
   * a run that fails destroys the program (SIGTERM) and waits for it all the same. One still
   * running {@link #GRACE} after its connection is done (it closed its stdout, and the peer its
   * side) is ended as well, as socat ends its {@code EXEC:} child: nothing more can reach it or
   * come from it, and jsock would otherwise wait for it for ever. Its status is then jsock's doing,
   * not a failure; {@code -v} says that it was ended. So is the status of a program that jsock's
   * shutdown hook ended (Ctrl-C, SIGTERM).
   *
   * @throws IOException the program could not be started ({@code Cannot run program "x": error=2,
   *     No such file or directory}), exited with a failure status, or the connection failed
   */
  void run(Socket conn, Diagnostics diagnostics, Join join)
      throws IOException, InterruptedException {
    Process process = start(conn);
    StandardStreams streams = StandardStreams.ofProgram(process, name);
    boolean cutOff;
    boolean outlived;
    try {
      join.run(streams);
      streams.closeOut(); // ended without the peer's end of file (UDP, TLS 1.2, an idle timeout)
      cutOff = !streams.isInEnded();
      if (cutOff) {
        // The connection ended before the program's stdout (a TLS 1.2 peer's close_notify): what
        // it writes has nowhere to go, and a full pipe nobody reads would block it, and jsock
        // waiting for it, for ever. Closed as a reader that has gone away: its next write fails
        // (EPIPE, or SIGPIPE kills it).
        process.getInputStream().close();
      }
      outlived = !process.waitFor(GRACE.toNanos(), TimeUnit.NANOSECONDS);
      if (outlived) {
        diagnostics.event(
            "ended %s (pid %d): still running %d s after its connection was done"
                .formatted(name, process.pid(), GRACE.toSeconds()));
        stop(process);
      }
    } catch (IOException | InterruptedException | RuntimeException e) {
      stop(process);
      throw e;
    } finally {
      awaitExit(process);
    }
    int status = process.exitValue();
    boolean jsocksDoing = outlived || endedAsJsockEnds.remove(process);
    if (status != 0 && !jsocksDoing && !(cutOff && status == KILLED_BY_SIGPIPE)) {
      throw new IOException(name + " exited with status " + status);
    }
  }

  private Process start(Socket conn) throws IOException {
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectInput(ProcessBuilder.Redirect.PIPE)
            .redirectOutput(ProcessBuilder.Redirect.PIPE)
            .redirectError(ProcessBuilder.Redirect.INHERIT);
    Map<String, String> env = builder.environment();
    env.putAll(addressVariables("REMOTE", conn.getPeerName()));
    env.putAll(addressVariables("LOCAL", conn.getSockName()));
    env.put("JSOCK_PROTO", proto(conn));
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      // the JDK's words name the program and the reason, with a blank after them
      throw new IOException(String.valueOf(e.getMessage()).strip(), e);
    }
    running.add(process);
    return process;
  }

  /**
   * {@code JSOCK_<side>_ADDR} and {@code _PORT}: the numeric address and port as ncat's {@code
   * getnameinfo(NI_NUMERICHOST | NI_NUMERICSERV)} gives them ({@code ::1}, a link-local scope as
   * its interface's name: {@code fe80::1%eth0}), or for AF_UNIX the socket's path (empty when
   * unnamed) and no port, as ncat leaves {@code NCAT_LOCAL_PORT} empty.
   */
  static Map<String, String> addressVariables(String side, SocketAddress address)
      throws IOException {
    String addr = "";
    String port = "";
    switch (address) {
      case InetSocketAddress inet -> {
        NameInfo numeric = Sockets.getNameInfo(inet, NI_NUMERICHOST, NI_NUMERICSERV);
        addr = numeric.host();
        port = numeric.service();
      }
      case UnixDomainSocketAddress unix -> addr = unix.getPath().toString();
      default -> addr = String.valueOf(address);
    }
    return Map.of("JSOCK_" + side + "_ADDR", addr, "JSOCK_" + side + "_PORT", port);
  }

  /** {@code TCP}, {@code UDP} or {@code UNIX} (ncat says TCP for AF_UNIX too). */
  private static String proto(Socket conn) {
    if (conn.family() == Family.AF_UNIX) {
      return "UNIX";
    }
    return conn.kind() == SocketKind.SOCK_DGRAM ? "UDP" : "TCP";
  }

  /** Waits for the program to exit, even when interrupted (then destroying it first). */
  private static void awaitExit(Process process) throws InterruptedException {
    boolean interrupted = false;
    try {
      while (true) { // until it has exited: a process left unwaited is the leak this prevents
        try {
          process.waitFor();
          return;
        } catch (InterruptedException e) {
          interrupted = true;
          process.destroyForcibly();
        }
      }
    } finally {
      running.remove(process);
      if (interrupted) {
        throw new InterruptedException("interrupted while waiting for a program to exit");
      }
    }
  }

  /**
   * Ends a program whose connection failed, or that outlived it: SIGTERM, then SIGKILL if it is
   * still there after GRACE.
   */
  private static void stop(Process process) {
    stop(List.of(process));
  }

  /** The shutdown hook: SIGTERM to every program still running, SIGKILL to those after GRACE. */
  private static void destroyRunning() {
    List<Process> programs = List.copyOf(running);
    endedAsJsockEnds.addAll(programs); // before the signal: their runs must know it as they end
    stop(programs);
  }

  /**
   * SIGTERM to the programs and to the processes they started, SIGKILL to those still there after
   * GRACE. Their children are taken first, while they are still theirs: {@code /bin/sh -c 'a; b'}
   * runs {@code a} as its child, which SIGTERM to the shell leaves running, handed to init, and the
   * shell's death would leave unseen.
   */
  private static void stop(List<Process> programs) {
    List<ProcessHandle> all = new ArrayList<>();
    for (Process program : programs) {
      all.add(program.toHandle());
      program.descendants().forEach(all::add);
    }
    all.forEach(ProcessHandle::destroy);
    long deadline = System.nanoTime() + GRACE.toNanos();
    for (ProcessHandle process : all) {
      try {
        long wait = Math.max(0, deadline - System.nanoTime());
        process.onExit().get(wait, TimeUnit.NANOSECONDS);
      } catch (TimeoutException | ExecutionException e) {
        process.destroyForcibly();
      } catch (InterruptedException e) {
        all.forEach(ProcessHandle::destroyForcibly); // a second signal: no more waiting
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
