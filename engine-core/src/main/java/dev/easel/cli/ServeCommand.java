package dev.easel.cli;

import dev.easel.core.Easel;
import dev.easel.server.EaselServer;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code easel serve}: the long-lived engine with its HTTP API, watching the plugins folder. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Runs the engine as a long-lived server that owns the compute device.",
            "Plugin bundles dropped into, replaced in or removed from the plugins folder are loaded, updated or "
                + "unloaded without a restart."})
public final class ServeCommand implements Runnable {
    @Mixin
    EngineOptions engine = new EngineOptions();

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", defaultValue = "8188", description = "Port to listen on; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        if (port < 0 || port > 65535) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--port must be in 0..65535, not " + port);
        }
        Easel easel = engine.start(true);
        EaselServer server = new EaselServer(easel);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            easel.close();
            stopped.countDown();
        }, "easel-shutdown"));
        try {
            server.start(host, port);
        } catch (RuntimeException e) {
            easel.close();
            throw new IllegalStateException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        spec.commandLine().getOut().println("easel serving on http://" + host + ":" + server.port()
                + " (plugins: " + easel.options().pluginsDir() + ")");
        spec.commandLine().getOut().flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
