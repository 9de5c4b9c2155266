package dev.easel.cli;

import dev.easel.api.tensor.DType;
import dev.easel.core.Easel;
import dev.easel.core.adapter.BakeRequest;
import dev.easel.core.adapter.BakeResult;
import dev.easel.core.adapter.LoraBaker;
import dev.easel.core.merge.FormatModelIo;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code easel lora bake}: folds adapters into a checkpoint. */
@Command(name = "bake", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Folds one or more adapters into a checkpoint, streaming with flat memory; OUT is written atomically.",
            "  easel lora bake --base sd15.safetensors --lora style.safetensors:0.8 --lora detail.safetensors:0.3 "
                    + "--out baked.safetensors"})
public final class LoraBakeCommand implements Runnable {
    @Mixin
    EngineOptions engine = new EngineOptions();

    @Option(names = "--base", required = true, paramLabel = "MODEL", description = "The checkpoint (not modified).")
    Path base;

    @Option(names = "--lora", required = true, paramLabel = "FILE[:STRENGTH]",
            description = "An adapter and its strength (default 1); repeat for several.")
    List<String> loras = new ArrayList<>();

    @Option(names = "--out", required = true, paramLabel = "OUT", description = "The checkpoint to write.")
    Path out;

    @Option(names = "--dtype", paramLabel = "TYPE", description = "Type of the written float tensors (default: unchanged).")
    String dtype;

    @Option(names = "--type", paramLabel = "ID",
            description = "Adapter type to choose where several recognise a module (lycoris/locon vs lora/kohya).")
    String preferredType;

    @Option(names = "--skip-unknown",
            description = "Skip (with a warning) modules no type recognises or no checkpoint key matches, instead of failing.")
    boolean skipUnknown;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: CPUs, at most 4).")
    int threads;

    @Option(names = "--memory", paramLabel = "MiB", description = "Working-memory budget for tensors in flight (default: 256).")
    long memoryMiB;

    @Option(names = {"-v", "--verbose"}, description = "Also print where the time went.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        LoraCommand.requireFile(base);
        List<BakeRequest.Strength> adapters = new ArrayList<>();
        for (String l : loras) {
            BakeRequest.Strength s = BakeRequest.Strength.parse(l);
            LoraCommand.requireFile(s.file());
            adapters.add(s);
        }
        BakeRequest request = new BakeRequest(base, adapters, out, dtype == null ? null : DType.parse(dtype),
                skipUnknown, preferredType, threads, memoryMiB << 20);
        try (Easel easel = engine.start(false)) {
            BakeResult r = new LoraBaker(easel.runtime(), new FormatModelIo(easel.registry()), LoraCommand.types(easel))
                    .bake(request);
            PrintWriter err = spec.commandLine().getErr();
            for (String w : r.warnings()) {
                err.println("easel: warning: " + w);
            }
            err.flush();
            PrintWriter stdout = spec.commandLine().getOut();
            stdout.printf(Locale.ROOT, "wrote %s: %d modules baked into %d keys, %d keys copied, %.1f s%n",
                    r.output(), r.modules(), r.patchedKeys(), r.copiedKeys(), r.wallNanos() / 1e9);
            if (verbose) {
                stdout.println("  " + r.timings());
            }
            stdout.flush();
        }
    }
}
