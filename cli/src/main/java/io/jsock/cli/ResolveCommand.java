package io.jsock.cli;

import io.jsock.AddrInfo;
import io.jsock.Family;
import io.jsock.SocketKind;
import io.jsock.Sockets;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code jsock resolve}: what {@code Sockets.getAddrInfo} gives for a name, as a table or JSON. */
@Command(
    name = "resolve",
    header = "Prints getaddrinfo's results for a name, as a table or JSON.",
    mixinStandardHelpOptions = true,
    description = {
      "Resolves a host name (and a port or service name) as Python's getaddrinfo does, and prints"
          + " each result: family, kind, protocol, address and port. Literals are parsed, never"
          + " looked up.",
    })
final class ResolveCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "NAME",
      converter = Host.class,
      description = "A host name or an IP literal (IPv6 may be in brackets, as [::1]).")
  String name;

  @Parameters(
      index = "1",
      arity = "0..1",
      paramLabel = "PORT",
      description = "A port number or a service name such as http (default: 0).")
  String port;

  @ArgGroup(exclusive = true)
  Version version;

  static final class Version {
    @Option(names = "-4", description = "IPv4 results only.")
    boolean ipv4;

    @Option(names = "-6", description = "IPv6 results only.")
    boolean ipv6;
  }

  @Option(names = "--udp", description = "Datagram (UDP) results only.")
  boolean udp;

  @Option(names = "--tcp", description = "Stream (TCP) results only.")
  boolean tcp;

  @Option(names = "--json", description = "One JSON array of objects instead of a table.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    if (udp && tcp) {
      throw new ParameterException(
          spec.commandLine(), "--udp and --tcp: choose one, or neither for both");
    }
    Family family =
        version == null
            ? null
            : version.ipv4 ? Family.AF_INET : version.ipv6 ? Family.AF_INET6 : null;
    SocketKind kind = udp ? SocketKind.SOCK_DGRAM : tcp ? SocketKind.SOCK_STREAM : null;
    List<AddrInfo> infos = Sockets.getAddrInfo(name, service(), family, kind);
    Lines out = Lines.stdout(spec.commandLine());
    if (json) {
      out.line(Json.array(infos.stream().map(ResolveCommand::toJson).toList()));
      return ExitCode.OK.code();
    }
    out.line(
        String.format("%-9s %-12s %-5s %-40s %s", "FAMILY", "KIND", "PROTO", "ADDRESS", "PORT"));
    for (AddrInfo info : infos) {
      InetSocketAddress address = (InetSocketAddress) info.address();
      out.line(
          String.format(
              "%-9s %-12s %-5d %-40s %d",
              info.family(), info.kind(), info.proto(), text(address), address.getPort()));
    }
    return ExitCode.OK.code();
  }

  /**
   * PORT as getAddrInfo takes it: a number checked as every command's PORT is (a usage error naming
   * it), anything else a service name.
   */
  private String service() {
    if (port == null || !port.strip().matches("[-+]?[0-9]+")) {
      return port;
    }
    return Integer.toString(ListenCommand.port(port, spec));
  }

  /**
   * The address as Python prints it: {@code ::1}, not the JDK's long form; a scoped (link-local)
   * one with its scope id, Python's fourth item, as {@code fe80::1%1}, which names it again.
   */
  private static String text(InetSocketAddress address) {
    byte[] raw = address.getAddress().getAddress();
    String text = Sockets.inetNtop(raw.length == 4 ? Family.AF_INET : Family.AF_INET6, raw);
    return address.getAddress() instanceof Inet6Address v6 && v6.getScopeId() != 0
        ? text + "%" + v6.getScopeId()
        : text;
  }

  private static String toJson(AddrInfo info) {
    InetSocketAddress address = (InetSocketAddress) info.address();
    return Json.object(
        "family", Json.string(info.family().name()),
        "kind", Json.string(info.kind().name()),
        "proto", Integer.toString(info.proto()),
        "address", Json.string(text(address)),
        "port", Integer.toString(address.getPort()));
  }
}
