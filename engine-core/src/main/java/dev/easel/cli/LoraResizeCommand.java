package dev.easel.cli;

import dev.easel.api.tensor.DType;
import dev.easel.core.Easel;
import dev.easel.core.adapter.LoraResizer;
import dev.easel.core.merge.FormatModelIo;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code easel lora resize}: a LoRA to a lower (fixed or dynamic) rank. */
@Command(name = "resize", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Resizes a LoRA to a new rank as kohya's resize_lora.py does (alpha rescaled to keep the strength).",
            "  easel lora resize big.safetensors --rank 32 --out small.safetensors",
            "  easel lora resize big.safetensors --rank 64 --dynamic sv_fro:0.9 --out dyn.safetensors"})
public final class LoraResizeCommand implements Runnable {
    @Mixin
    EngineOptions engine = new EngineOptions();

    @Parameters(paramLabel = "FILE", description = "The LoRA to resize.")
    Path file;

    @Option(names = "--rank", required = true, paramLabel = "R",
            description = "The new rank; with --dynamic, the largest rank allowed.")
    int rank;

    @Option(names = "--conv-rank", paramLabel = "R", description = "The new rank of 3x3 conv modules (default: --rank).")
    Integer convRank;

    @Option(names = "--dynamic", paramLabel = "METHOD:X",
            description = "Pick each module's rank: sv_ratio:X (singular values above S0/X), sv_fro:X (Frobenius "
                    + "share X), sv_cumulative:X (sum share X).")
    String dynamic;

    @Option(names = "--out", required = true, paramLabel = "OUT", description = "The LoRA to write.")
    Path out;

    @Option(names = "--dtype", paramLabel = "TYPE", description = "Save type: fp16, bf16, fp32 (default: the input's).")
    String dtype;

    @Option(names = "--full-svd", hidden = true,
            description = "Decompose the full up@down matrix instead of the factors (kohya's path; for comparisons).")
    boolean fullSvd;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        LoraCommand.requireFile(file);
        String method = null;
        double param = 0;
        if (dynamic != null) {
            int colon = dynamic.indexOf(':');
            if (colon < 0) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--dynamic takes METHOD:X, for example sv_fro:0.9");
            }
            method = dynamic.substring(0, colon);
            if (!method.equals("sv_ratio") && !method.equals("sv_fro") && !method.equals("sv_cumulative")) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "unknown --dynamic method '" + method + "' (sv_ratio, sv_fro, sv_cumulative)");
            }
            try {
                param = Double.parseDouble(dynamic.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--dynamic " + dynamic
                        + ": X must be a number");
            }
        }
        if (rank < 1 || (convRank != null && convRank < 1)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--rank and --conv-rank must be at least 1");
        }
        try (Easel easel = engine.start(false)) {
            LoraResizer.Result r = new LoraResizer(easel.runtime(), new FormatModelIo(easel.registry()),
                    LoraCommand.types(easel)).resize(new LoraResizer.Request(file, rank, convRank, method, param, out,
                    dtype == null ? null : DType.parse(dtype), fullSvd));
            PrintWriter stdout = spec.commandLine().getOut();
            stdout.printf(Locale.ROOT, "wrote %s: %d modules, ranks %s, min Frobenius kept %.4f, "
                    + "SVD %.3f s (summed over threads), %.1f s%n",
                    r.output(), r.modules(), r.ranks(), r.minRetained(), r.svdNanos() / 1e9, r.wallNanos() / 1e9);
            stdout.flush();
        }
    }
}
