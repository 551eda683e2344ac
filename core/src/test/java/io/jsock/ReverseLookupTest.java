package io.jsock;

import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.testing.ChildJvm;
import io.jsock.testing.NetnsHost;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Reverse lookups against a real name server ({@code dns_responder.py} in a {@link NetnsHost}),
 * jsock on the epoll path in a child JVM in the host's namespace and python3 there as the oracle.
 * Its PTR records: 198.18.99.7 is real.test, which has no A record; 198.18.99.1 is one.test, whose
 * A record is 198.18.99.1; 198.18.99.5 has none (NXDOMAIN); the name server fails for 198.18.99.9
 * (SERVFAIL) and does not answer for 198.18.99.8.
 */
class ReverseLookupTest {

  /** Each case: an address, a port and getnameinfo's flags (Python's names, '|' between). */
  private static final List<String> CASES =
      List.of(
          "198.18.99.7 80 0",
          "198.18.99.7 80 NI_NAMEREQD",
          "198.18.99.1 80 0",
          "198.18.99.1 80 NI_NAMEREQD",
          "198.18.99.1 80 NI_NUMERICHOST",
          "198.18.99.1 80 NI_NUMERICSERV",
          "198.18.99.1 514 NI_DGRAM",
          "198.18.99.1 514 0",
          "198.18.99.5 80 0",
          "198.18.99.5 80 NI_NAMEREQD",
          "198.18.99.9 80 0",
          "198.18.99.9 80 NI_NAMEREQD",
          "::ffff:198.18.99.7 80 0",
          "::ffff:198.18.99.7 80 NI_NAMEREQD",
          "::ffff:198.18.99.5 80 NI_NAMEREQD");

  private static final List<String> HOSTS =
      List.of("198.18.99.7", "198.18.99.1", "198.18.99.5", "198.18.99.9");

  @Test
  void reverseLookupsGiveWhatPythonsGetnameinfoAndGethostbyaddrGive() throws Exception {
    NetnsHost.assumeAvailable();
    try (NetnsHost host = NetnsHost.create()) {
      host.serveNames();

      // herror's codes as jsock's: HOST_NOT_FOUND (1) is EAI_NONAME, TRY_AGAIN (2) EAI_AGAIN
      String python =
          host.run(
              "python3",
              "-c",
              """
              import socket, sys
              cases, hosts = sys.argv[1].split(','), sys.argv[2].split(',')
              for case in cases:
                  ip, port, flags = case.split()
                  f = 0
                  for name in flags.split('|'):
                      f |= 0 if name == '0' else getattr(socket, name)
                  try:
                      print(case, '=', *socket.getnameinfo((ip, int(port)), f))
                  except socket.gaierror as e:
                      print(case, '=', e.errno)
              for ip in hosts:
                  try:
                      name, aliases, addresses = socket.gethostbyaddr(ip)
                      print('gethostbyaddr', ip, '=', name, addresses)
                  except socket.herror as e:
                      print('gethostbyaddr', ip, '=', {1: -2, 2: -3}[e.errno])
                  print('getfqdn', ip, '=', socket.getfqdn(ip))
              """,
              String.join(",", CASES),
              String.join(",", HOSTS));

      List<String> jsock =
          host.run(
                  ChildJvm.command(
                          Lookups.class,
                          "-Djdk.virtualThreadScheduler.parallelism=1",
                          "-Djdk.virtualThreadScheduler.maxPoolSize=1")
                      .toArray(String[]::new))
              .lines()
              .toList();
      assertThat(python.lines())
          .contains(
              "198.18.99.7 80 0 = real.test http",
              "198.18.99.9 80 0 = -3",
              "gethostbyaddr 198.18.99.7 = real.test ['198.18.99.7']",
              "gethostbyaddr 198.18.99.9 = -3");
      List<String> expected = new ArrayList<>(python.lines().toList());
      expected.add("epoll path: true");
      // a virtual thread's lookup that waits for a name server does not hold its carrier (the
      // only one): another virtual thread runs meanwhile
      expected.add("another virtual thread ran during the lookup: true");
      assertThat(jsock).containsExactlyElementsOf(expected);
    }
  }

  // python3 in a NetnsHost under ulimit -n, every descriptor taken: getnameinfo(('198.18.99.7',
  // 80), 0) and gethostbyaddr('198.18.99.7') raise OSError(24, 'Too many open files'): glibc's
  // EAI_SYSTEM, with errno. jsock said AddressResolutionException "unknown error -11".
  @Test
  void aLookupOutOfDescriptorsFailsWithEmfileAsPythonsOsError() throws Exception {
    NetnsHost.assumeAvailable();
    try (NetnsHost host = NetnsHost.create()) {
      host.resolveWithLocalNameServer(); // no query could leave, were a descriptor free
      List<String> command = new ArrayList<>(ChildJvm.command(ReverseLookupAtTheFdLimit.class));
      command.add("198.18.99.7");
      List<String> jsock =
          host.run(ChildJvm.underFdLimit(256, command).toArray(String[]::new)).lines().toList();

      assertThat(jsock)
          .containsExactly(
              "NAMEINFO ErrnoException 24: getNameInfo 198.18.99.7:80: too many open files",
              "HOSTBYADDR ErrnoException 24: getHostByAddr 198.18.99.7: too many open files");
    }
  }

  /** The child JVM's side: each case's answer as the python3 script prints it. */
  public static final class Lookups {
    public static void main(String[] args) throws Exception {
      List<String> out = new ArrayList<>();
      for (String each : CASES) {
        String[] parts = each.split(" ");
        List<NameInfoFlag> flags = new ArrayList<>();
        for (String name : parts[2].split("\\|")) {
          if (!name.equals("0")) {
            flags.add(NameInfoFlag.valueOf(name));
          }
        }
        var address = InetSocketAddress.createUnresolved(parts[0], Integer.parseInt(parts[1]));
        out.add(
            each
                + " = "
                + answer(
                    () -> {
                      NameInfo info =
                          Sockets.getNameInfo(address, flags.toArray(NameInfoFlag[]::new));
                      return info.host() + " " + info.service();
                    }));
      }
      for (String ip : HOSTS) {
        out.add(
            "gethostbyaddr "
                + ip
                + " = "
                + answer(
                    () -> {
                      HostEntry entry = Sockets.getHostByAddr(ip);
                      return entry.hostName()
                          + " "
                          + entry.addresses().stream().map(a -> "'" + a + "'").toList().toString();
                    }));
        out.add("getfqdn " + ip + " = " + answer(() -> Sockets.getFqdn(ip)));
      }
      out.add("epoll path: " + io.jsock.internal.StreamCalls.isAvailable());
      out.add("another virtual thread ran during the lookup: " + otherRanDuringLookup());
      out.forEach(System.out::println);
    }

    /**
     * Whether a virtual thread started while another waits in a lookup that the name server does
     * not answer (198.18.99.8) runs before that lookup ends, with one carrier for both. Up to 3
     * tries: the lookup lasts the resolver's 1 s timeout, and this thread's start of the other may
     * come later under load; a lookup that holds the carrier fails every try.
     */
    private static boolean otherRanDuringLookup() throws Exception {
      for (int i = 0; i < 3; i++) {
        if (otherRanDuringOneLookup()) {
          return true;
        }
      }
      return false;
    }

    private static boolean otherRanDuringOneLookup() throws Exception {
      AtomicBoolean ranFirst = new AtomicBoolean();
      AtomicBoolean lookupEnded = new AtomicBoolean();
      CountDownLatch lookingUp = new CountDownLatch(1);
      Thread lookup =
          Thread.ofVirtual()
              .start(
                  () -> {
                    lookingUp.countDown();
                    answer(() -> Sockets.getNameInfo("198.18.99.8", 80));
                    lookupEnded.set(true);
                  });
      lookingUp.await();
      Thread other = Thread.ofVirtual().start(() -> ranFirst.set(!lookupEnded.get()));
      other.join();
      lookup.join();
      return ranFirst.get();
    }

    private static String answer(Callable<?> call) {
      try {
        return String.valueOf(call.call());
      } catch (AddressResolutionException e) {
        return Integer.toString(e.errno());
      } catch (Exception e) {
        return e.toString();
      }
    }
  }
}
