package dev.easel.cli;

import dev.easel.core.sd.model.InitScheme;
import dev.easel.core.sd.model.RandomModels;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code easel init-model}: a random-initialised model in the exact ldm key layout. */
@Command(name = "init-model", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Writes a randomly initialised Stable Diffusion checkpoint in the exact ldm key layout.",
            "  easel init-model --config tiny --seed 1 --out tiny.safetensors   (3.3 M parameters, writes tiny.json beside)",
            "  easel init-model --config sd15 --seed 1 --out /tmp/sd15.safetensors   (real SD1.5 shapes, 4.3 GB)"})
public final class InitModelCommand implements Runnable {
    @Option(names = "--config", required = true, paramLabel = "NAME|FILE",
            description = "tiny, easel-tiny, sd15, sd2, or an ldm-style config file (.yaml/.json).")
    String config;

    @Option(names = "--init", paramLabel = "SCHEME", defaultValue = "parity",
            description = "parity (order-one activations everywhere, for tests and demos; the default) or scratch "
                    + "(ldm's initialisation with zero-initialised residual outputs, to train a model from).")
    String init;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", description = "Seed (default: 0).")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The .safetensors file to write.")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        if (!out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".safetensors")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--out must name a .safetensors file");
        }
        InitScheme scheme;
        try {
            scheme = InitScheme.of(init);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        long t0 = System.nanoTime();
        RandomModels.Result r;
        try {
            r = RandomModels.write(config, seed, out, scheme);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        PrintWriter o = spec.commandLine().getOut();
        o.printf(Locale.ROOT, "wrote %s: %d tensors, %,d parameters%s in %.1f s%n", r.model(), r.tensors(),
                r.parameters(), r.config() == null ? "" : " (config " + r.config() + ")", (System.nanoTime() - t0) / 1e9);
        o.flush();
    }
}
