package dev.easel.cli;

import dev.easel.api.ParameterSpec;
import dev.easel.api.merge.MergeAlgorithm;
import dev.easel.api.tensor.DType;
import dev.easel.core.Easel;
import dev.easel.core.merge.BlockWeights;
import dev.easel.core.merge.MergeExecutor;
import dev.easel.core.merge.MergeProgress;
import dev.easel.core.merge.MergeRequest;
import dev.easel.core.merge.MergeResult;
import dev.easel.core.merge.RecipeFile;
import dev.easel.core.merge.RecipeJson;
import dev.easel.core.merge.RecipeNode;
import dev.easel.core.plugin.PluginKind;
import dev.easel.core.plugin.PluginRecord;
import dev.easel.core.plugin.PluginState;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code easel merge}: merges checkpoints with one method ({@code --method}) or a recipe graph ({@code --recipe}),
 * streaming key by key; {@code --list} shows the installed methods and their parameters.
 */
@Command(name = "merge", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Merges models key by key with flat memory, writing OUT atomically.",
            "  easel merge --method weighted_sum --param alpha=0.3 --out mix.safetensors A.safetensors B.safetensors",
            "  easel merge --method add_difference --param alpha=1 --out inpaint.safetensors "
                    + "sd15-inpainting.safetensors custom.safetensors sd15.safetensors",
            "  easel merge --recipe recipe.json --out mix.safetensors",
            "  easel merge --list"})
public final class MergeCommand implements Runnable {
    @Mixin
    EngineOptions engine = new EngineOptions();

    @Option(names = "--method", paramLabel = "NAME",
            description = "Merge method: a family (weighted_sum) or an id (weighted_sum/basic); see --list.")
    String method;

    @Option(names = "--param", paramLabel = "K=V", mapFallbackValue = "",
            description = "A method parameter, named as sd-mecha and SuperMerger name them (alpha, beta, ...).")
    Map<String, String> params = new LinkedHashMap<>();

    @Option(names = "--block-weights", paramLabel = "[PARAM=]V1,V2,...",
            description = {"Per-block values of a parameter (default: the method's first per-block parameter, "
                    + "usually alpha): 26 values for SD1/SD2 (BASE, IN00-IN11, M00, OUT00-OUT11) or 20 for SDXL "
                    + "(BASE, IN00-IN08, M00, OUT00-OUT08). Repeat for several parameters."})
    List<String> blockWeights = new ArrayList<>();

    @Option(names = "--recipe", paramLabel = "FILE", description = "A JSON recipe (a graph of merges); see docs/merging.md.")
    Path recipe;

    @Option(names = "--out", paramLabel = "OUT", description = "The file to write (.safetensors).")
    Path out;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of random methods (DARE); each key derives its own.")
    Long seed;

    @Option(names = "--dtype", paramLabel = "TYPE",
            description = "Output type of merged tensors: fp16, bf16, fp32 (default: each key's type in the first model).")
    String dtype;

    @Option(names = "--keep-ema", description = "Keep and merge model_ema.* keys (dropped by default).")
    boolean keepEma;

    @Option(names = "--threads", paramLabel = "N", description = "Keys merged at once (default: CPUs, at most 4).")
    int threads;

    @Option(names = "--memory", paramLabel = "MiB", description = "Working-memory budget for tensors in flight (default: 256).")
    long memoryMiB;

    @Option(names = {"-q", "--quiet"}, description = "No progress bar.")
    boolean quiet;

    @Option(names = "--list", description = "List the installed merge methods and their parameters.")
    boolean list;

    @Parameters(paramLabel = "MODEL", arity = "0..*", description = "Models A, B, C, ... in the method's order.")
    List<Path> models = new ArrayList<>();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        PrintWriter stdout = spec.commandLine().getOut();
        if (list) {
            try (Easel easel = engine.start(false)) {
                printList(easel, stdout);
            }
            return;
        }
        checkUsage();
        DType outType = dtype == null ? null : DType.parse(dtype);
        try (Easel easel = engine.start(false)) {
            MergeRequest request = request(easel, outType);
            MergeExecutor executor = MergeExecutor.of(easel);
            MergeResult result;
            try (var plan = executor.plan(request)) {
                PrintWriter err = spec.commandLine().getErr();
                for (String w : plan.warnings()) {
                    err.println("easel: warning: " + w);
                }
                err.flush();
                try (ProgressListener progress = quiet ? null : new ProgressListener()) {
                    result = executor.execute(plan, progress == null ? MergeProgress.NONE : progress);
                }
            }
            stdout.printf(Locale.ROOT, "wrote %s: %d keys merged, %d copied, %d dropped, %.1f MB in %.1f s%n",
                    result.output(), result.merged(), result.copied(), result.dropped(),
                    result.bytesWritten() / 1e6, result.wallNanos() / 1e9);
            if (!quiet) {
                stdout.printf(Locale.ROOT, "  thread time: %.1f s reading and decoding, %.1f s in methods, "
                        + "%.1f s encoding and writing%n", result.readNanos() / 1e9, result.computeNanos() / 1e9,
                        result.writeNanos() / 1e9);
            }
            stdout.flush();
        }
    }

    private void checkUsage() {
        CommandLine cl = spec.commandLine();
        if (out == null) {
            throw new CommandLine.ParameterException(cl, "Missing required option: '--out=OUT'");
        }
        if ((method == null) == (recipe == null)) {
            throw new CommandLine.ParameterException(cl, "Give either --method NAME with models, or --recipe FILE");
        }
        if (recipe != null && (!models.isEmpty() || !params.isEmpty() || !blockWeights.isEmpty())) {
            throw new CommandLine.ParameterException(cl,
                    "--recipe takes its models and parameters from the recipe; remove MODEL, --param and --block-weights");
        }
        if (method != null && models.isEmpty()) {
            throw new CommandLine.ParameterException(cl, "--method " + method + " needs the models to merge");
        }
        if (threads < 0 || memoryMiB < 0) {
            throw new CommandLine.ParameterException(cl, "--threads and --memory must not be negative");
        }
    }

    private MergeRequest request(Easel easel, DType outType) {
        RecipeNode.Merge root;
        DType type = outType;
        long s = seed == null ? 0L : seed;
        if (recipe != null) {
            RecipeFile file = RecipeJson.read(recipe);
            root = (RecipeNode.Merge) file.root();
            if (type == null) {
                type = file.dtype();
            }
            if (seed == null && file.seed() != null) {
                s = file.seed();
            }
        } else {
            Map<String, BlockWeights> blocks = new LinkedHashMap<>();
            for (String bw : blockWeights) {
                String param;
                String values;
                int eq = bw.indexOf('=');
                if (eq > 0) {
                    param = bw.substring(0, eq).trim();
                    values = bw.substring(eq + 1);
                } else {
                    param = firstPerBlockParameter(easel);
                    values = bw;
                }
                blocks.put(param, BlockWeights.parse(values));
            }
            List<RecipeNode> inputs = new ArrayList<>();
            models.forEach(p -> inputs.add(new RecipeNode.Model(p)));
            root = new RecipeNode.Merge(method, new LinkedHashMap<>(params), blocks, inputs);
        }
        return new MergeRequest(root, out, type, s, keepEma, threads, memoryMiB << 20);
    }

    private String firstPerBlockParameter(Easel easel) {
        PluginRecord r;
        try {
            r = easel.registry().select(PluginKind.MERGE_ALGORITHM, method);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("unknown merge method '" + method + "': " + e.getMessage()
                    + " (easel merge --list shows the installed methods)");
        }
        return r.plugin().parameters().specs().stream().filter(ParameterSpec::perBlock).map(ParameterSpec::name)
                .findFirst().orElseThrow(() -> new IllegalArgumentException("method " + r.id()
                        + " has no parameter that can be given per block"));
    }

    private static void printList(Easel easel, PrintWriter out) {
        List<PluginRecord> records = easel.registry().list(PluginKind.MERGE_ALGORITHM);
        int shown = 0;
        for (PluginRecord r : records) {
            if (r.state() != PluginState.ACTIVE) {
                continue;
            }
            MergeAlgorithm alg = (MergeAlgorithm) r.plugin();
            String inputs = String.join(" ", alg.inputs()).toUpperCase(Locale.ROOT) + (alg.variadic() ? " ..." : "");
            out.printf("%s %s  (%s)%n  %s%n", r.id(), r.version(), inputs, r.description());
            for (ParameterSpec p : alg.parameters().specs()) {
                String range = p.min() == null && p.max() == null ? "" : " in [" + num(p.min()) + ", "
                        + num(p.max()) + "]";
                out.printf("    %-12s %s%s%s, default %s%s: %s%n", p.name(),
                        p.type().name().toLowerCase(Locale.ROOT), range,
                        p.choices().isEmpty() ? "" : " " + String.join("|", p.choices()),
                        p.defaultValue() == null ? "(required)" : p.defaultValue().isEmpty() ? "none"
                                : p.defaultValue(),
                        p.perBlock() ? ", per block" : "", p.description());
            }
            shown++;
        }
        out.printf("%d merge method(s)%n", shown);
        out.flush();
    }

    private static String num(Double d) {
        if (d == null) {
            return "";
        }
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString(d.longValue()) : d.toString();
    }

    /** The progress bar on stderr: output megabytes written, with speed and ETA. */
    private static final class ProgressListener implements MergeProgress, AutoCloseable {
        private volatile ProgressBar bar;

        @Override
        public void started(int keys, long bytes) {
            bar = new ProgressBarBuilder().setTaskName("merge").setInitialMax(Math.max(1, bytes >> 20))
                    .setUnit(" MiB", 1).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).showSpeed()
                    .build();
        }

        @Override
        public void keyDone(String key, long bytes) {
            ProgressBar b = bar;
            if (b != null) {
                synchronized (this) {
                    remainder += bytes;
                    long mib = remainder >> 20;
                    if (mib > 0) {
                        b.stepBy(mib);
                        remainder -= mib << 20;
                    }
                }
            }
        }

        private long remainder;

        @Override
        public void close() {
            if (bar != null) {
                bar.close();
            }
        }
    }
}
