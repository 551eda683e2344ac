package io.jsock.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A test host on a network of its own: a network namespace that this class creates, joined to this
 * one by a veth pair on a /29 of the benchmarking block 198.18.0.0/15, for what loopback cannot
 * show: a host that drops packets, answers with ICMP, or is not there at all.
 *
 * <p>This namespace's end is {@link #localAddress()}, the host is {@link #address()}, and {@link
 * #silentAddress()} is on the same link with nobody to answer for it. Only these addresses are
 * routed, and only over the veth; the host's namespace has no route anywhere else. Its firewall is
 * nftables ({@link #firewall}); programs run in it with {@link #run} and {@link #start}. {@link
 * #close()} stops the programs it started, by PID, and deletes the link and the namespace.
 *
 * <pre>{@code
 * NetnsHost.assumeAvailable();
 * try (NetnsHost host = NetnsHost.create()) {
 *   host.firewall("add rule inet test input tcp dport 80 drop");
 *   // a connect to host.address():80 now waits for its timeout
 * }
 * }</pre>
 *
 * <p>It needs root, {@code ip} (iproute2) and {@code nft} (nftables); {@link #assumeAvailable()}
 * skips a test without them. Namespaces are named {@code jsock-PID-N}; one left by a JVM that died
 * is deleted by the next {@link #create()}.
 */
public final class NetnsHost implements AutoCloseable {
  private static final Path LOCK =
      Path.of(System.getProperty("java.io.tmpdir"), "jsock-netns.lock");
  private static final Pattern OURS = Pattern.compile("jsock-(\\d+)-\\d+");
  private static final AtomicInteger NAMES = new AtomicInteger();
  private static final int SUBNETS = 1 << 14; // /29s in 198.18.0.0/15

  private final String name;
  private final String link;
  private final int subnet;
  private final List<Process> started = new ArrayList<>();

  private NetnsHost(String name, String link, int subnet) {
    this.name = name;
    this.link = link;
    this.subnet = subnet;
  }

  /** Skips the calling test unless this process is root and has {@code ip} and {@code nft}. */
  public static void assumeAvailable() {
    assumeTrue(available(), "needs root, ip (iproute2) and nft (nftables)");
  }

  /** Whether a host can be created here: root, with {@code ip} and {@code nft} on the PATH. */
  public static boolean available() {
    try {
      return "0".equals(output("id", "-u").strip())
          && exitCode("ip", "-V") == 0
          && exitCode("nft", "--version") == 0;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Creates a host: a namespace, a veth pair with this namespace's end {@link #localAddress()} and
   * the host's {@link #address()} up, the host's loopback up, and an nftables table {@code inet
   * test} with an empty {@code input} and {@code output} chain of type filter for {@link
   * #firewall}.
   */
  public static NetnsHost create() throws IOException {
    synchronized (NetnsHost.class) {
      try (FileChannel lockFile =
              FileChannel.open(LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock ignored = lockFile.lock()) {
        deleteStale();
        int n = NAMES.incrementAndGet();
        long pid = ProcessHandle.current().pid();
        NetnsHost host =
            new NetnsHost("jsock-" + pid + "-" + n, "js" + pid + "n" + n, freeSubnet());
        try {
          host.setUp();
        } catch (IOException | RuntimeException e) {
          try {
            host.close();
          } catch (IOException | RuntimeException cleanup) {
            e.addSuppressed(cleanup);
          }
          throw e;
        }
        return host;
      }
    }
  }

  private void setUp() throws IOException {
    check("ip", "netns", "add", name);
    check("ip", "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", name);
    check("ip", "addr", "add", literal(1) + "/29", "dev", link);
    check("ip", "link", "set", link, "up");
    check("ip", "-n", name, "addr", "add", literal(2) + "/29", "dev", "eth0");
    check("ip", "-n", name, "link", "set", "eth0", "up");
    check("ip", "-n", name, "link", "set", "lo", "up");
    firewall(
        """
        add table inet test
        add chain inet test input { type filter hook input priority 0; }
        add chain inet test output { type filter hook output priority 0; }
        """);
  }

  /** The namespace's name, for {@code ip netns exec}. */
  public String name() {
    return name;
  }

  /** The host's address. */
  public InetAddress address() {
    return address(2);
  }

  /** This namespace's end of the link. */
  public InetAddress localAddress() {
    return address(1);
  }

  /**
   * An address on the link that nobody has: a connection or datagram to it waits for an ARP answer
   * that never comes (Linux gives up with {@code EHOSTUNREACH} after about 3 s).
   */
  public InetAddress silentAddress() {
    return address(3);
  }

  /**
   * Applies nftables commands in the host's namespace ({@code nft -f -}); its table is {@code inet
   * test} with chains {@code input} and {@code output}, for example {@code add rule inet test input
   * tcp dport 80 drop} or {@code flush chain inet test input}.
   */
  public void firewall(String commands) throws IOException {
    Process nft = new ProcessBuilder(exec("nft", "-f", "-")).redirectErrorStream(true).start();
    nft.getOutputStream().write(commands.getBytes(StandardCharsets.UTF_8));
    nft.getOutputStream().close();
    finish(nft, "nft -f - <<< " + commands.strip());
  }

  /** Sets the link's MTU at both ends, in bytes (1500 at first; IPv4 needs 68 at least). */
  public void mtu(int bytes) throws IOException {
    check("ip", "link", "set", link, "mtu", Integer.toString(bytes));
    run("ip", "link", "set", "eth0", "mtu", Integer.toString(bytes));
  }

  /**
   * Limits the link to {@code rate} each way, in tc's units ({@code 1mbit}, {@code 200kbit}), with
   * a token bucket (tbf) that queues up to 2 s of packets and drops the rest.
   */
  public void rate(String rate) throws IOException {
    String[] tbf = {"root", "tbf", "rate", rate, "burst", "32kbit", "latency", "2s"};
    List<String> ours = new ArrayList<>(List.of("tc", "qdisc", "replace", "dev", link));
    ours.addAll(List.of(tbf));
    check(ours.toArray(String[]::new));
    List<String> theirs = new ArrayList<>(List.of("tc", "qdisc", "replace", "dev", "eth0"));
    theirs.addAll(List.of(tbf));
    run(theirs.toArray(String[]::new));
  }

  /** The command line that runs {@code command} in the host's namespace. */
  public List<String> exec(String... command) {
    List<String> line = new ArrayList<>(List.of("ip", "netns", "exec", name));
    line.addAll(List.of(command));
    return line;
  }

  /**
   * Runs {@code command} in the host's namespace, waits for it (30 s at most) and returns its
   * output, stdout and stderr together.
   *
   * @throws IOException if it fails to start, exits with another status than 0, or does not end
   */
  public String run(String... command) throws IOException {
    return check(exec(command).toArray(String[]::new));
  }

  /**
   * Starts {@code command} in the host's namespace and returns it running, its output to be read by
   * the caller; {@link #close()} stops it if it still runs.
   */
  public Process start(String... command) throws IOException {
    Process process = new ProcessBuilder(exec(command)).redirectErrorStream(true).start();
    synchronized (started) {
      started.add(process);
    }
    return process;
  }

  /** Stops the programs {@link #start} started, and deletes the link and the namespace. */
  @Override
  public void close() throws IOException {
    synchronized (started) {
      for (Process process : started) {
        process.destroyForcibly();
      }
      for (Process process : started) {
        waitFor(process);
      }
      started.clear();
    }
    deleteResolvConf();
    exitCode("ip", "link", "del", link); // absent if setting up failed before it
    if (exitCode("ip", "netns", "del", name) != 0 && namespaces().contains(name)) {
      throw new IOException("ip netns del " + name + " failed");
    }
  }

  @Override
  public String toString() {
    return name + " at " + address().getHostAddress();
  }

  private InetAddress address(int host) {
    try {
      return InetAddress.getByName(literal(host));
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  private String literal(int host) {
    int offset = subnet * 8 + host;
    return "198." + (18 + (offset >> 16)) + "." + ((offset >> 8) & 0xff) + "." + (offset & 0xff);
  }

  private static int freeSubnet() throws IOException {
    Set<Integer> used = new HashSet<>();
    Matcher inet =
        Pattern.compile("inet 198\\.(18|19)\\.(\\d+)\\.(\\d+)/")
            .matcher(output("ip", "-o", "-4", "addr", "show"));
    while (inet.find()) {
      int offset =
          ((Integer.parseInt(inet.group(1)) - 18) << 16)
              | (Integer.parseInt(inet.group(2)) << 8)
              | Integer.parseInt(inet.group(3));
      used.add(offset / 8);
    }
    int start = ThreadLocalRandom.current().nextInt(SUBNETS);
    for (int i = 0; i < SUBNETS; i++) {
      int subnet = (start + i) % SUBNETS;
      if (!used.contains(subnet)) {
        return subnet;
      }
    }
    throw new IOException("no free /29 left in 198.18.0.0/15");
  }

  private static void deleteStale() throws IOException {
    for (String namespace : namespaces()) {
      Matcher ours = OURS.matcher(namespace);
      if (ours.matches() && ProcessHandle.of(Long.parseLong(ours.group(1))).isEmpty()) {
        exitCode("ip", "netns", "del", namespace);
        Files.deleteIfExists(Path.of("/etc/netns", namespace, "resolv.conf"));
        Files.deleteIfExists(Path.of("/etc/netns", namespace));
      }
    }
  }

  private static List<String> namespaces() throws IOException {
    List<String> names = new ArrayList<>();
    for (String line : output("ip", "netns", "list").split("\n")) {
      if (!line.isBlank()) {
        names.add(line.strip().split("\\s+")[0]);
      }
    }
    return names;
  }

  private static String check(String... command) throws IOException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    return finish(process, String.join(" ", command));
  }

  private static String finish(Process process, String what) throws IOException {
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int status = waitFor(process);
    if (status != 0) {
      throw new IOException(what + ": exit " + status + ": " + out.strip());
    }
    return out;
  }

  private static String output(String... command) throws IOException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    waitFor(process);
    return out;
  }

  private static int exitCode(String... command) throws IOException {
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    return waitFor(process);
  }

  private static int waitFor(Process process) throws IOException {
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException(process.info().commandLine().orElse("a command") + " did not end");
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  /**
   * Gives the programs {@link #run} and {@link #start} run in the host's namespace a resolver
   * configuration of their own: {@code ip netns exec} mounts {@code /etc/netns/NAME/resolv.conf}
   * over {@code /etc/resolv.conf} for them. This one asks a name server on the host's own loopback
   * ({@code nameserver 127.0.0.1}, one attempt, a 1 s timeout), so that nothing leaves the host;
   * the file and its directory go at {@link #close()}.
   */
  public void resolveWithLocalNameServer() throws IOException {
    Path dir = resolvConfDir();
    Files.createDirectories(dir);
    Files.writeString(
        dir.resolve("resolv.conf"), "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
  }

  /**
   * Resolves names in the namespace with {@code dns_responder.py} (the core tests' resource) on its
   * loopback ({@link #resolveWithLocalNameServer()}), started and answering when this returns.
   */
  public void serveNames() throws IOException {
    serveNames(Map.of());
  }

  private Path resolvConfDir() {
    return Path.of("/etc/netns", name);
  }

  private void deleteResolvConf() throws IOException {
    Path dir = resolvConfDir();
    Files.deleteIfExists(dir.resolve("resolv.conf"));
    Files.deleteIfExists(dir);
  }

  /**
   * As {@link #serveNames()}, with {@code names} (under {@code .test}) answering too: each with its
   * addresses, A and AAAA records in the order given, so that a test can make a name whose first
   * address is dead and whose second answers.
   */
  public void serveNames(Map<String, List<InetAddress>> names) throws IOException {
    resolveWithLocalNameServer();
    byte[] responder;
    // from the class path as it is (in the core tests' jar for the CLI's tests), through stdin
    try (var in = NetnsHost.class.getResourceAsStream("/dns_responder.py")) {
      if (in == null) {
        throw new IOException("dns_responder.py is not on the class path");
      }
      responder = in.readAllBytes();
    }
    List<String> command = new ArrayList<>(List.of("python3", "-"));
    names.forEach(
        (name, addresses) ->
            command.add(
                name
                    + "="
                    + String.join(
                        ",", addresses.stream().map(InetAddress::getHostAddress).toList())));
    Process server = start(command.toArray(String[]::new));
    try (var script = server.getOutputStream()) {
      script.write(responder);
    }
    String ready =
        new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8))
            .readLine();
    if (!"ready".equals(ready)) {
      throw new IOException("dns_responder.py did not start: " + ready);
    }
  }
}
