package dev.easel.cli;

import dev.easel.api.tensor.DType;
import dev.easel.core.Easel;
import dev.easel.core.adapter.BakeRequest;
import dev.easel.core.adapter.LoraMerger;
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

/** {@code easel lora merge}: several LoRAs into one. */
@Command(name = "merge", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Merges LoRAs into one: sum of ratio*delta per module, exact (concatenated) when the ranks add up "
                + "to at most --rank, else reduced to --rank by SVD (kohya svd_merge_lora.py).",
            "  easel lora merge --lora a.safetensors:0.7 --lora b.safetensors:0.3 --rank 64 --out ab.safetensors"})
public final class LoraMergeCommand implements Runnable {
    @Mixin
    EngineOptions engine = new EngineOptions();

    @Option(names = "--lora", required = true, paramLabel = "FILE[:RATIO]", description = "A LoRA and its ratio (default 1).")
    List<String> loras = new ArrayList<>();

    @Option(names = "--rank", required = true, paramLabel = "R", description = "The rank of the result.")
    int rank;

    @Option(names = "--conv-rank", paramLabel = "R", description = "The rank of 3x3 conv modules (default: --rank).")
    Integer convRank;

    @Option(names = "--clamp-quantile", paramLabel = "Q", defaultValue = "0.99",
            description = "kohya's clamp of SVD-reduced factors to this quantile of their values (1 disables; default 0.99).")
    double clampQuantile;

    @Option(names = "--out", required = true, paramLabel = "OUT", description = "The LoRA to write.")
    Path out;

    @Option(names = "--dtype", paramLabel = "TYPE", description = "Save type (default: the first input's).")
    String dtype;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        List<BakeRequest.Strength> inputs = new ArrayList<>();
        for (String l : loras) {
            BakeRequest.Strength s = BakeRequest.Strength.parse(l);
            LoraCommand.requireFile(s.file());
            inputs.add(s);
        }
        if (rank < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--rank must be at least 1");
        }
        try (Easel easel = engine.start(false)) {
            LoraMerger.Result r = new LoraMerger(easel.runtime(), new FormatModelIo(easel.registry()),
                    LoraCommand.types(easel)).merge(new LoraMerger.Request(inputs, rank, convRank, out,
                    dtype == null ? null : DType.parse(dtype), clampQuantile));
            PrintWriter stdout = spec.commandLine().getOut();
            stdout.printf(Locale.ROOT, "wrote %s: %d modules exact, %d reduced to rank by SVD, %.1f s%n", r.output(),
                    r.exact(), r.reduced(), r.wallNanos() / 1e9);
            stdout.flush();
        }
    }
}
