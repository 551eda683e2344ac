package io.jsock.internal;

import java.util.List;
import java.util.Optional;

/**
 * The well-known services, built in: the common entries of {@code /etc/services} as Debian's
 * netbase ships them (IANA's assignments), so that service names mean the same on every platform.
 * The JDK cannot read the system's services database.
 *
 * <p>Entries keep the file's order, TCP before UDP, since a lookup without a protocol takes the
 * first match, as glibc does.
 */
public final class Services {
  /** One line of the services file: a name, its port and protocol, and its aliases. */
  public record Service(String name, int port, String proto, List<String> aliases) {
    boolean isCalled(String wanted) {
      return name.equals(wanted) || aliases.contains(wanted);
    }
  }

  private static final List<Service> TABLE =
      List.of(
              both("echo", 7),
              both("discard", 9, "sink", "null"),
              both("daytime", 13),
              tcp("qotd", 17, "quote"),
              tcp("ftp-data", 20),
              tcp("ftp", 21),
              tcp("ssh", 22),
              tcp("telnet", 23),
              tcp("smtp", 25, "mail"),
              both("time", 37, "timserver"),
              tcp("whois", 43, "nicname"),
              both("domain", 53),
              udp("bootps", 67),
              udp("bootpc", 68),
              udp("tftp", 69),
              tcp("finger", 79),
              tcp("http", 80, "www"),
              both("kerberos", 88, "kerberos5", "krb5", "kerberos-sec"),
              tcp("pop3", 110, "pop-3"),
              both("sunrpc", 111, "portmapper"),
              tcp("nntp", 119, "readnews", "untp"),
              udp("ntp", 123),
              tcp("imap2", 143, "imap"),
              both("snmp", 161),
              both("snmp-trap", 162, "snmptrap"),
              tcp("bgp", 179),
              both("ldap", 389),
              both("https", 443),
              tcp("submissions", 465, "ssmtp", "smtps", "urd"),
              tcp("shell", 514, "cmd", "syslog"),
              udp("syslog", 514),
              tcp("submission", 587),
              both("ldaps", 636),
              tcp("rsync", 873),
              tcp("imaps", 993),
              tcp("pop3s", 995),
              tcp("mysql", 3306),
              both("sip", 5060),
              tcp("postgresql", 5432, "postgres"),
              tcp("amqp", 5672),
              tcp("redis", 6379))
          .stream()
          .flatMap(List::stream)
          .toList();

  private Services() {}

  /**
   * The service called {@code name} (its official name or an alias, case-sensitive as in the file)
   * for {@code proto} ({@code "tcp"}, {@code "udp"}), or for the first protocol listed if {@code
   * proto} is null.
   */
  public static Optional<Service> byName(String name, String proto) {
    return TABLE.stream()
        .filter(s -> s.isCalled(name) && (proto == null || s.proto().equals(proto)))
        .findFirst();
  }

  /** The service on {@code port} for {@code proto}, or for the first protocol if it is null. */
  public static Optional<Service> byPort(int port, String proto) {
    return TABLE.stream()
        .filter(s -> s.port() == port && (proto == null || s.proto().equals(proto)))
        .findFirst();
  }

  private static List<Service> tcp(String name, int port, String... aliases) {
    return List.of(new Service(name, port, "tcp", List.of(aliases)));
  }

  private static List<Service> udp(String name, int port, String... aliases) {
    return List.of(new Service(name, port, "udp", List.of(aliases)));
  }

  private static List<Service> both(String name, int port, String... aliases) {
    return List.of(
        new Service(name, port, "tcp", List.of(aliases)),
        new Service(name, port, "udp", List.of(aliases)));
  }
}
