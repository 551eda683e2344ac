package io.jsock.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A Netty load client doing what {@code jsock bench pingpong|pipeline} does (K messages in flight
 * per connection, every echoed byte checked, latency after the warm-up), to show whether {@code
 * jsock bench} is the bottleneck: both drive the C epoll echo server and the figures are compared.
 *
 * <pre>
 * java -cp bench/target/jsock-bench-peers.jar io.jsock.bench.NettyLoadClient \
 *     --host 127.0.0.1 --port 12345 -c 100 -s 64 -k 1 --duration 10s --warmup 2s
 * </pre>
 *
 * Prints one JSON object with the field names of {@code jsock bench --json}.
 */
public final class NettyLoadClient {
  private static final int PERIOD = 65_521;

  private final InetSocketAddress server;
  private final int size;
  private final int inFlight;
  private final byte[] pattern;
  private final Recorder latency = new Recorder(3);
  private final LongAdder messages = new LongAdder();
  private final AtomicReference<String> failure = new AtomicReference<>();
  private volatile boolean stopping;

  private NettyLoadClient(InetSocketAddress server, int size, int inFlight) {
    this.server = server;
    this.size = size;
    this.inFlight = inFlight;
    byte[] period = new byte[PERIOD];
    new SplittableRandom(0x6a736f636bL).nextBytes(period);
    this.pattern = new byte[PERIOD + size * inFlight];
    for (int i = 0; i < pattern.length; i++) {
      pattern[i] = period[i % PERIOD];
    }
  }

  public static void main(String[] args) throws InterruptedException {
    PeerOptions options =
        PeerOptions.parse(
            "NettyLoadClient",
            args,
            Set.of(
                "--host",
                "--port",
                "-c",
                "-s",
                "-k",
                "--duration",
                "--warmup",
                "--transport",
                "--threads"),
            Set.of());
    InetSocketAddress server =
        new InetSocketAddress(options.text("--host", "localhost"), options.number("--port", 12345));
    int connections = options.number("-c", 10);
    int size = options.number("-s", 64);
    int inFlight = options.number("-k", 1);
    Duration warmup = options.duration("--warmup", Duration.ofSeconds(2));
    Duration duration = options.duration("--duration", Duration.ofSeconds(10));
    NettyTransport transport = NettyTransport.of(options.text("--transport", "epoll"));
    int threads = options.number("--threads", Runtime.getRuntime().availableProcessors());
    NettyLoadClient client = new NettyLoadClient(server, size, inFlight);
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, transport.ioHandlerFactory());
    try {
      System.out.println(client.run(group, transport, connections, warmup, duration));
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
    System.exit(client.failure.get() == null ? 0 : 1);
  }

  private String run(
      EventLoopGroup group,
      NettyTransport transport,
      int connections,
      Duration warmup,
      Duration duration)
      throws InterruptedException {
    Bootstrap bootstrap =
        new Bootstrap()
            .group(group)
            .channel(transport.channel())
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
            .handler(
                new ChannelInitializer<Channel>() {
                  private int next;

                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(new Connection(next++));
                  }
                });
    List<Channel> channels = new ArrayList<>();
    for (int i = 0; i < connections; i++) {
      channels.add(bootstrap.connect(server).sync().channel());
    }
    Thread.sleep(warmup);
    latency.reset();
    long startMessages = messages.sum();
    long start = System.nanoTime();
    Thread.sleep(duration);
    long count = messages.sum() - startMessages;
    double seconds = (System.nanoTime() - start) / 1e9;
    Histogram h = latency.getIntervalHistogram();
    stopping = true;
    for (Channel channel : channels) {
      channel.close();
    }
    String error = failure.get();
    return String.format(
        Locale.ROOT,
        "{\"client\":\"netty\",\"scenario\":\"%s\",\"connections\":%d,\"size\":%d,\"pipeline\":%d,"
            + "\"seconds\":%.3f,\"messages\":%d,\"messagesPerSecond\":%.3f,\"errors\":%d,"
            + "\"firstError\":%s,\"latencyMicros\":{\"count\":%d,\"p50\":%.3f,\"p90\":%.3f,"
            + "\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f}}",
        inFlight == 1 ? "pingpong" : "pipeline",
        connections,
        size,
        inFlight,
        seconds,
        count,
        count / seconds,
        error == null ? 0 : 1,
        error == null ? "null" : "\"" + error.replace("\"", "'") + "\"",
        h.getTotalCount(),
        h.getValueAtPercentile(50) / 1000.0,
        h.getValueAtPercentile(90) / 1000.0,
        h.getValueAtPercentile(99) / 1000.0,
        h.getValueAtPercentile(99.9) / 1000.0,
        h.getMaxValue() / 1000.0);
  }

  /** One connection: K messages in flight, each echo checked, each completed one replaced. */
  private final class Connection extends ChannelInboundHandlerAdapter {
    private final int index;
    private final long seed;
    private final long[] sentAt = new long[inFlight];
    private final byte[] received = new byte[size * inFlight];
    private long sent;
    private long done;
    private long receivedBytes;

    Connection(int index) {
      this.index = index;
      this.seed = index * 7_919L;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      Arrays.fill(sentAt, System.nanoTime());
      send(ctx, inFlight);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf in = (ByteBuf) msg;
      try {
        int n = in.readableBytes();
        in.readBytes(received, 0, n);
        int start = start(receivedBytes);
        int wrong = Arrays.mismatch(received, 0, n, pattern, start, start + n);
        if (wrong >= 0) {
          failure.compareAndSet(
              null, "echo mismatch at byte " + (receivedBytes + wrong) + " of a stream");
          ctx.close();
          return;
        }
        receivedBytes += n;
      } finally {
        in.release();
      }
      long now = System.nanoTime();
      long complete = receivedBytes / size;
      int fresh = (int) (complete - done);
      for (; done < complete; done++) {
        latency.recordValue(now - sentAt[(int) (done % inFlight)]);
      }
      messages.add(fresh);
      if (fresh > 0 && !stopping) {
        for (int i = 0; i < fresh; i++) {
          sentAt[(int) ((sent + i) % inFlight)] = now;
        }
        send(ctx, fresh);
      }
    }

    /**
     * A connection the server closes before the run stops is a failure, as in {@code jsock bench}:
     * it no longer loads the server, and a run that went on without it looked clean (errors 0).
     */
    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (!stopping) {
        failure.compareAndSet(null, "the server closed connection " + index);
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (!stopping) {
        failure.compareAndSet(null, String.valueOf(cause.getMessage()));
      }
      ctx.close();
    }

    private void send(ChannelHandlerContext ctx, int count) {
      int length = count * size;
      int start = start(sent * size);
      ctx.writeAndFlush(ctx.alloc().directBuffer(length).writeBytes(pattern, start, length));
      sent += count;
    }

    private int start(long offset) {
      return (int) Math.floorMod(seed + offset, (long) PERIOD);
    }
  }
}
