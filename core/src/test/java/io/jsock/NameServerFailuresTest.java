package io.jsock;

import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.testing.ChildJvm;
import io.jsock.testing.NetnsHost;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;

/**
 * Name resolution against a real name server: {@code dns_responder.py} on the loopback of a {@link
 * NetnsHost}, whose resolver asks only it. jsock runs in a child JVM in the host's namespace, and
 * python3 there too as the oracle. The server answers NXDOMAIN, SERVFAIL, REFUSED or nothing at all
 * for some names under {@code .test}.
 */
class NameServerFailuresTest {

  @Test
  void aServerFailureOrNoAnswerIsATemporaryFailureAsPythonSaysAndANonExistentNameIsNotKnown()
      throws Exception {
    lookUpInAChildJvm();
  }

  // -Djdk.includeInExceptions without hostInfo (a JVM that keeps host names out of its exceptions):
  // the JDK's message is " Temporary failure in name resolution", without the name and its colon
  @Test
  void theJdksMessageWithoutTheHostNameStillTellsATemporaryFailure() throws Exception {
    lookUpInAChildJvm("-Djdk.includeInExceptions=jar");
  }

  private void lookUpInAChildJvm(String... jvmOptions) throws Exception {
    NetnsHost.assumeAvailable();
    try (NetnsHost host = NetnsHost.create()) {
      host.serveNames();

      String python =
          host.run(
              "python3",
              "-c",
              """
              import socket
              for n in ['nx.test', 'fail.test', 'refused.test', 'silent.test']:
                  try:
                      socket.getaddrinfo(n, 80)
                  except socket.gaierror as e:
                      print(n, e.errno)
              """);
      assertThat(python.lines())
          .containsExactly("nx.test -2", "fail.test -3", "refused.test -3", "silent.test -3");

      List<String> jsock =
          host.run(ChildJvm.command(Lookups.class, jvmOptions).toArray(String[]::new))
              .lines()
              .toList();
      assertThat(jsock)
          .containsExactly(
              "nx.test -2 resolve nx.test:80: name or service not known",
              "fail.test -3 resolve fail.test:80: temporary failure in name resolution",
              "refused.test -3 resolve refused.test:80: temporary failure in name resolution",
              "silent.test -3 resolve silent.test:80: temporary failure in name resolution",
              // the JDK's negative cache (10 s) keeps a failure without its reason
              "fail.test again -3 resolve fail.test:80: temporary failure in name resolution",
              "getHostByName -3 getHostByName fail.test: temporary failure in name resolution",
              "getHostByAddr -3 getHostByAddr fail.test: temporary failure in name resolution",
              "connect -3 connect to fail.test:80: temporary failure in name resolution",
              "nx.test again -2 resolve nx.test:80: name or service not known");
    }
  }

  // python3: a name the name server has addresses for, but none of the family asked, is
  // [Errno -5] No address associated with hostname (EAI_NODATA), as one with no address at all;
  // EAI_NONAME is for a name that does not exist (or one of /etc/hosts, which glibc says so of)
  @Test
  void aNameWithAddressesOfTheOtherFamilyOnlyHasNoAddressAsPythonSays() throws Exception {
    NetnsHost.assumeAvailable();
    try (NetnsHost host = NetnsHost.create()) {
      host.serveNames();

      String python =
          host.run(
              "python3",
              "-c",
              """
              import socket
              for what, call in [
                      ('one.test AF_INET6', lambda: socket.getaddrinfo('one.test', 80, socket.AF_INET6)),
                      ('six.test AF_INET', lambda: socket.getaddrinfo('six.test', 80, socket.AF_INET)),
                      ('empty.test', lambda: socket.getaddrinfo('empty.test', 80)),
                      ('gethostbyname six.test', lambda: socket.gethostbyname('six.test')),
                      ('gethostbyname_ex six.test', lambda: socket.gethostbyname_ex('six.test')),
                      ('localhost AF_INET6', lambda: socket.getaddrinfo('localhost', 80, socket.AF_INET6))]:
                  try:
                      call()
                  except socket.gaierror as e:
                      print(what, e.errno)
              """);
      assertThat(python.lines())
          .containsExactly(
              "one.test AF_INET6 -5",
              "six.test AF_INET -5",
              "empty.test -5",
              "gethostbyname six.test -5",
              "gethostbyname_ex six.test -5",
              "localhost AF_INET6 -2");

      List<String> jsock =
          host.run( // the epoll path, where libc is asked
                  ChildJvm.command(OtherFamilyLookups.class).toArray(String[]::new))
              .lines()
              .toList();
      assertThat(jsock)
          .containsExactly(
              "one.test AF_INET6 -5 resolve one.test:80: no address associated with hostname",
              "six.test AF_INET -5 resolve six.test:80: no address associated with hostname",
              "empty.test -5 resolve empty.test:80: no address associated with hostname",
              "gethostbyname six.test -5 getHostByName six.test: no address associated with"
                  + " hostname",
              "gethostbyname_ex six.test -5 getHostByNameEx six.test: no address associated with"
                  + " hostname",
              "connect one.test on AF_INET6 -5 connect to one.test:80: no address associated with"
                  + " hostname",
              "localhost AF_INET6 -2 resolve localhost:80: name or service not known");
    }
  }

  // python3 in a NetnsHost under ulimit -n, every descriptor taken (after a first lookup, of a name
  // that does not exist, which reads nsswitch.conf): getaddrinfo('localhost', 80) and of a name
  // server's name raise
  // OSError(24, 'Too many open files'), glibc's EAI_SYSTEM with errno; a literal resolves; with
  // descriptors freed both names resolve at once. jsock said EAI_NONAME ("name or service not
  // known"), and the JDK's negative cache kept the failure for 10 s after.
  @Test
  void aLookupOutOfDescriptorsFailsWithEmfileAsPythonsOsErrorAndResolvesOnceThereAreSome()
      throws Exception {
    NetnsHost.assumeAvailable();
    try (NetnsHost host = NetnsHost.create()) {
      host.serveNames();
      String python =
          host.run(
              "sh",
              "-c",
              """
              ulimit -n 64 && exec python3 -c '
              import socket, os, encodings.idna
              def attempt(host):
                  try:
                      return "made %s:%d" % socket.getaddrinfo(host, 80, type=socket.SOCK_STREAM)[0][4][:2]
                  except OSError as e:
                      return "%s %s: %s" % (type(e).__name__, e.errno, e.strerror)
              attempt("nx.test")
              held = []
              try:
                  while True:
                      held.append(os.open("/dev/null", os.O_RDONLY))
              except OSError:
                  pass
              out = [attempt(h) for h in ["localhost", "one.test", "127.0.0.1"]]
              for fd in held:
                  os.close(fd)
              out += [attempt(h) for h in ["localhost", "one.test"]]
              print("\\n".join(out))
              '
              """);
      assertThat(python.lines())
          .containsExactly(
              "OSError 24: Too many open files",
              "OSError 24: Too many open files",
              "made 127.0.0.1:80",
              "made 127.0.0.1:80",
              "made 198.18.99.1:80");

      // the JDK answers localhost without asking libc, at the limit too: it resolves, where
      // python3 fails it
      List<String> expected =
          List.of(
              "localhost made 127.0.0.1:80",
              "one.test AddressResolutionException 24: resolve one.test:80: too many open files",
              "127.0.0.1 made 127.0.0.1:80",
              "getHostByName AddressResolutionException 24: getHostByName one.test: too many open"
                  + " files",
              "one.test again AddressResolutionException 24: resolve one.test:80: too many open"
                  + " files",
              "freed localhost made 127.0.0.1:80",
              "freed one.test made 198.18.99.1:80",
              "freed getHostByName made 198.18.99.1");
      assertThat(atTheFdLimit(host, true)).containsExactlyElementsOf(expected);
      // the portable path cannot ask libc: glibc's EAI_SYSTEM, never EAI_NONAME; and the JDK's
      // negative cache (networkaddress.cache.negative.ttl, 10 s) keeps the failure after
      assertThat(atTheFdLimit(host, false))
          .containsExactly(
              "localhost made 127.0.0.1:80",
              "one.test AddressResolutionException -11: resolve one.test:80: system error",
              "127.0.0.1 made 127.0.0.1:80",
              "getHostByName AddressResolutionException -11: getHostByName one.test: system error",
              "one.test again AddressResolutionException -11: resolve one.test:80: system error",
              "freed localhost made 127.0.0.1:80",
              "freed one.test AddressResolutionException -11: resolve one.test:80: system error",
              "freed getHostByName AddressResolutionException -11: getHostByName one.test: system"
                  + " error");
    }
  }

  // the libc lookup made again for a name that failed out of descriptors answers as the JDK's for
  // a name with the same addresses, whatever the JVM's address properties: the JDK reads
  // java.net.preferIPv6Addresses ignoring case, and java.net.preferIPv4Stack=true asks for IPv4
  // only. jsock's gave IPv4 first for TRUE, and IPv6 addresses too with the IPv4 stack
  @Test
  void aLookupMadeAgainOnceDescriptorsAreFreeAnswersAsTheJdksForTheSameAddresses()
      throws Exception {
    NetnsHost.assumeAvailable();
    try (NetnsHost host = NetnsHost.create()) {
      List<InetAddress> both = List.of(host.address(), InetAddress.getByName("::1"));
      host.serveNames(Map.of("both.test", both, "twin.test", both));
      String v4 = host.address().getHostAddress() + ":80";
      String v6 = "[::1]:80";
      Map<String, List<String>> orders = new LinkedHashMap<>();
      orders.put("-Djava.net.preferIPv6Addresses=false", List.of(v4, v6));
      orders.put("-Djava.net.preferIPv6Addresses=true", List.of(v6, v4));
      orders.put("-Djava.net.preferIPv6Addresses=TRUE", List.of(v6, v4));
      orders.put("-Djava.net.preferIPv4Stack=true", List.of(v4));
      Map<String, List<String>> expected = new LinkedHashMap<>();
      Map<String, List<String>> actual = new LinkedHashMap<>();
      for (var order : orders.entrySet()) {
        List<String> command =
            new ArrayList<>(ChildJvm.command(ForwardLookupAtTheFdLimit.class, order.getKey()));
        command.addAll(List.of("both.test", "twin.test"));
        actual.put(
            order.getKey(),
            host.run(ChildJvm.underFdLimit(256, command).toArray(String[]::new)).lines().toList());
        expected.put(
            order.getKey(),
            List.of(
                "both.test AddressResolutionException 24: resolve both.test:80: too many open"
                    + " files",
                "freed both.test made " + order.getValue(),
                "twin.test made " + order.getValue()));
      }
      assertThat(actual).isEqualTo(expected);
    }
  }

  private static List<String> atTheFdLimit(NetnsHost host, boolean epoll) throws IOException {
    List<String> command = ChildJvm.command(ForwardLookupAtTheFdLimit.class);
    if (!epoll) {
      command = new ArrayList<>(command);
      command.removeAll(
          List.of(
              "--enable-native-access=ALL-UNNAMED",
              "--add-exports",
              "java.base/sun.nio.ch=ALL-UNNAMED"));
    }
    return host.run(ChildJvm.underFdLimit(256, command).toArray(String[]::new)).lines().toList();
  }

  /** The child JVM's side of the other family's lookups. */
  public static final class OtherFamilyLookups {
    public static void main(String[] args) {
      List<String> out = new ArrayList<>();
      out.add(
          "one.test AF_INET6 "
              + Lookups.failure(() -> Sockets.getAddrInfo("one.test", 80, Family.AF_INET6, null)));
      out.add(
          "six.test AF_INET "
              + Lookups.failure(() -> Sockets.getAddrInfo("six.test", 80, Family.AF_INET, null)));
      out.add(
          "empty.test " + Lookups.failure(() -> Sockets.getAddrInfo("empty.test", 80, null, null)));
      out.add("gethostbyname six.test " + Lookups.failure(() -> Sockets.getHostByName("six.test")));
      out.add(
          "gethostbyname_ex six.test "
              + Lookups.failure(() -> Sockets.getHostByNameEx("six.test")));
      out.add(
          "connect one.test on AF_INET6 "
              + Lookups.failure(
                  () -> {
                    try (Socket socket = Socket.create(Family.AF_INET6, SocketKind.SOCK_STREAM)) {
                      socket.connect("one.test", 80);
                    }
                    return null;
                  }));
      out.add(
          "localhost AF_INET6 "
              + Lookups.failure(() -> Sockets.getAddrInfo("localhost", 80, Family.AF_INET6, null)));
      out.forEach(System.out::println);
    }
  }

  /** The child JVM's side: each lookup's errno and message, one a line. */
  public static final class Lookups {
    public static void main(String[] args) {
      List<String> out = new ArrayList<>();
      for (String name : List.of("nx.test", "fail.test", "refused.test", "silent.test")) {
        out.add(name + " " + failure(() -> Sockets.getAddrInfo(name, 80, null, null)));
      }
      out.add("fail.test again " + failure(() -> Sockets.getAddrInfo("fail.test", 80, null, null)));
      out.add("getHostByName " + failure(() -> Sockets.getHostByName("fail.test")));
      out.add("getHostByAddr " + failure(() -> Sockets.getHostByAddr("fail.test")));
      out.add(
          "connect "
              + failure(
                  () -> {
                    try (Socket socket = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
                      socket.connect("fail.test", 80);
                    }
                    return null;
                  }));
      out.add("nx.test again " + failure(() -> Sockets.getAddrInfo("nx.test", 80, null, null)));
      out.forEach(System.out::println);
    }

    private static String failure(Callable<?> call) {
      try {
        return "no failure: " + call.call();
      } catch (AddressResolutionException e) {
        return e.errno() + " " + e.getMessage();
      } catch (Exception e) {
        return e.toString();
      }
    }
  }
}
