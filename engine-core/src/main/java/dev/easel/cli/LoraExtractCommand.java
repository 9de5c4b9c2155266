package dev.easel.cli;

import dev.easel.api.tensor.DType;
import dev.easel.core.Easel;
import dev.easel.core.adapter.LoraExtractor;
import dev.easel.core.merge.FormatModelIo;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code easel lora extract}: a LoRA from the difference of two checkpoints. */
@Command(name = "extract", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Extracts a LoRA from a fine-tuned checkpoint and its base (kohya extract_lora_from_models.py).",
            "  easel lora extract --base sd15.safetensors --tuned finetuned.safetensors --rank 32 --out diff.safetensors"})
public final class LoraExtractCommand implements Runnable {
    @Mixin
    EngineOptions engine = new EngineOptions();

    @Option(names = "--base", required = true, paramLabel = "A", description = "The original checkpoint.")
    Path base;

    @Option(names = "--tuned", required = true, paramLabel = "B", description = "The fine-tuned checkpoint.")
    Path tuned;

    @Option(names = "--rank", required = true, paramLabel = "R", description = "Rank of the extracted modules.")
    int rank;

    @Option(names = "--conv-rank", paramLabel = "R2",
            description = "Also extract the resnet and sampler convs, 3x3 ones at this rank (kohya --conv_dim).")
    Integer convRank;

    @Option(names = "--clamp-quantile", paramLabel = "Q", defaultValue = "0.99", description = "kohya's clamp (1 disables).")
    double clampQuantile;

    @Option(names = "--min-diff", paramLabel = "D", defaultValue = "0.01",
            description = "Leave out a text encoder whose weights nowhere differ by more than D (kohya default 0.01).")
    double minDiff;

    @Option(names = "--out", required = true, paramLabel = "OUT", description = "The LoRA to write.")
    Path out;

    @Option(names = "--dtype", paramLabel = "TYPE", description = "Save type (default fp16).")
    String dtype;

    @Option(names = "--threads", paramLabel = "N", description = "Modules decomposed at once (default: CPUs, at most 4).")
    int threads;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        LoraCommand.requireFile(base);
        LoraCommand.requireFile(tuned);
        if (rank < 1 || (convRank != null && convRank < 1)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--rank and --conv-rank must be at least 1");
        }
        try (Easel easel = engine.start(false)) {
            LoraExtractor.Result r = new LoraExtractor(easel.runtime(), new FormatModelIo(easel.registry()))
                    .extract(new LoraExtractor.Request(base, tuned, rank, convRank, out,
                            dtype == null ? null : DType.parse(dtype), clampQuantile, minDiff, threads));
            PrintWriter err = spec.commandLine().getErr();
            for (String n : r.notes()) {
                err.println("easel: note: " + n);
            }
            err.flush();
            PrintWriter stdout = spec.commandLine().getOut();
            stdout.printf(Locale.ROOT, "wrote %s: %d modules, %.1f s%n", r.output(), r.modules(), r.wallNanos() / 1e9);
            stdout.flush();
        }
    }
}
