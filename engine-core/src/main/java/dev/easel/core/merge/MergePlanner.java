package dev.easel.core.merge;

import dev.easel.api.InvalidParameterException;
import dev.easel.api.ParameterSpec;
import dev.easel.api.ParameterValues;
import dev.easel.api.merge.MergeAlgorithm;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSource;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.plugin.PluginKind;
import dev.easel.core.plugin.PluginLease;
import dev.easel.core.plugin.PluginRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * Turns a {@link MergeRequest} into a {@link MergePlan}, reading headers only. Policies (documented in
 * {@code docs/merging.md}):
 * <ul>
 *   <li>output keys are the union of the models' keys, in the first model's order; a key missing from some inputs of
 *       a merge is taken from the first input that has it, with a warning;</li>
 *   <li>non-float tensors ({@code position_ids}) are copied from the first input that has them, never averaged;</li>
 *   <li>a 9-channel (inpainting) or 8-channel (instruct-pix2pix) {@code conv_in} as first input merged with
 *       4-channel ones: the first 4 channels are merged, the extra ones kept; the other way round is an error;</li>
 *   <li>{@code model_ema.*} keys are dropped unless {@link MergeRequest#keepEma()};</li>
 *   <li>models of different architectures, any other shape mismatch, a wrong input count, a bad parameter or block
 *       weight are errors before any tensor is read.</li>
 * </ul>
 */
public final class MergePlanner {
    /** Metadata key holding the recipe in the output. */
    public static final String RECIPE_METADATA_KEY = "easel_merge_recipe";

    private final PluginRegistry registry;
    private final ModelIo io;

    public MergePlanner(PluginRegistry registry, ModelIo io) {
        this.registry = registry;
        this.io = io;
    }

    /**
     * Opens the models, checks everything and plans every key.
     *
     * @throws MergeException naming the file, key or parameter at fault
     */
    public MergePlan plan(MergeRequest request) {
        List<Path> paths = new ArrayList<>();
        collectModels(request.recipe(), paths);
        for (Path p : paths) {
            if (p.equals(request.output())) {
                throw new MergeException("the output " + request.output() + " is also an input; choose another --out");
            }
            if (!Files.exists(p)) {
                throw new MergeException("model " + p + " does not exist");
            }
        }
        List<TensorSource> sources = new ArrayList<>();
        List<CompiledMerge> merges = new ArrayList<>();
        boolean ok = false;
        try {
            for (Path p : paths) {
                try {
                    sources.add(io.open(p));
                } catch (IOException | RuntimeException e) {
                    throw new MergeException("cannot read model " + p + ": " + e.getMessage(), e);
                }
            }
            ModelArchitecture arch = checkArchitectures(paths, sources);
            CompiledMerge root = (CompiledMerge) compile(request.recipe(), paths, merges, arch, paths.get(0));
            MergePlan plan = planKeys(request, paths, sources, merges, root, arch);
            ok = true;
            return plan;
        } finally {
            if (!ok) {
                new MergePlan(request, sources, merges, List.of(), new WritePlan(List.of(), Map.of()), List.of(),
                        ModelArchitecture.UNKNOWN, 0).close();
            }
        }
    }

    private static void collectModels(RecipeNode node, List<Path> out) {
        if (node instanceof RecipeNode.Model m) {
            if (!out.contains(m.path())) {
                out.add(m.path());
            }
        } else if (node instanceof RecipeNode.Merge m) {
            m.inputs().forEach(i -> collectModels(i, out));
        }
    }

    private static ModelArchitecture checkArchitectures(List<Path> paths, List<TensorSource> sources) {
        ModelArchitecture first = null;
        Path firstPath = null;
        Set<String> firstKeys = null;
        for (int i = 0; i < sources.size(); i++) {
            Set<String> keys = new HashSet<>();
            for (TensorInfo t : sources.get(i).tensors()) {
                if (!t.name().startsWith("model_ema.")) {
                    keys.add(t.name());
                }
            }
            ModelArchitecture a = ModelArchitecture.detect(keys);
            if (i == 0) {
                first = a;
                firstPath = paths.get(0);
                firstKeys = keys;
                continue;
            }
            if (a != ModelArchitecture.UNKNOWN && first != ModelArchitecture.UNKNOWN && a != first) {
                throw new MergeException("models of different architectures cannot be merged: " + firstPath + " is "
                        + first.label() + " but " + paths.get(i) + " is " + a.label());
            }
            long shared = keys.stream().filter(firstKeys::contains).count();
            long smaller = Math.min(keys.size(), firstKeys.size());
            if (smaller > 0 && shared * 2 < smaller) {
                throw new MergeException("models do not share a layout: " + paths.get(i) + " has only " + shared
                        + " of its " + keys.size() + " keys in common with " + firstPath
                        + " (different architecture, or an adapter rather than a checkpoint?)");
            }
        }
        return first;
    }

    private Object compile(RecipeNode node, List<Path> paths, List<CompiledMerge> merges, ModelArchitecture arch,
                           Path firstModel) {
        if (node instanceof RecipeNode.Model m) {
            return paths.indexOf(m.path());
        }
        RecipeNode.Merge m = (RecipeNode.Merge) node;
        List<Object> inputs = new ArrayList<>();
        for (RecipeNode in : m.inputs()) {
            inputs.add(compile(in, paths, merges, arch, firstModel));
        }
        PluginLease<MergeAlgorithm> lease;
        try {
            lease = registry.lease(PluginKind.MERGE_ALGORITHM, m.method(), MergeAlgorithm.class);
        } catch (NoSuchElementException | IllegalArgumentException e) {
            throw new MergeException("unknown merge method '" + m.method() + "': " + e.getMessage()
                    + " (easel merge --list shows the installed methods)", e);
        }
        boolean leased = false;
        try {
            MergeAlgorithm alg = lease.get();
            String id = lease.record().id();
            int min = alg.inputs().size();
            int n = inputs.size();
            if (alg.variadic() ? n < min : n != min) {
                throw new MergeException("method " + id + " takes " + (alg.variadic() ? "at least " : "") + min
                        + " models (" + String.join(", ", alg.inputs()).toUpperCase(java.util.Locale.ROOT)
                        + (alg.variadic() ? ", ..." : "") + "), but " + n + " were given");
            }
            ParameterValues values = validate(alg, id, m.parameters(), null);
            try {
                alg.checkInputs(values, n);
            } catch (InvalidParameterException e) {
                throw new MergeException("method " + id + ": " + e.getMessage(), e);
            }
            Map<String, ParameterValues> byBlock = new LinkedHashMap<>();
            if (!m.blockWeights().isEmpty()) {
                BlockLayout layout = arch.layout().orElseThrow(() -> new MergeException("block weights need an SD1, "
                        + "SD2 or SDXL checkpoint, but the blocks of " + firstModel + " cannot be told from its keys"));
                Map<String, Map<String, Double>> perParam = new LinkedHashMap<>();
                for (Map.Entry<String, BlockWeights> e : m.blockWeights().entrySet()) {
                    ParameterSpec spec = alg.parameters().spec(e.getKey()).orElseThrow(() -> new MergeException(
                            "method " + id + " has no parameter '" + e.getKey() + "' to give block weights for; "
                                    + "parameters: " + alg.parameters().specs().stream().map(ParameterSpec::name)
                                    .toList()));
                    if (!spec.perBlock()) {
                        throw new MergeException("parameter '" + e.getKey() + "' of " + id
                                + " cannot be given per block");
                    }
                    perParam.put(e.getKey(), e.getValue().resolve(layout, e.getKey()));
                }
                for (String block : layout.blocks()) {
                    Map<String, Object> raw = new LinkedHashMap<>(m.parameters());
                    boolean any = false;
                    for (Map.Entry<String, Map<String, Double>> e : perParam.entrySet()) {
                        Double v = e.getValue().get(block);
                        if (v != null) {
                            raw.put(e.getKey(), v);
                            any = true;
                        }
                    }
                    if (any) {
                        byBlock.put(block, validate(alg, id, raw, block));
                    }
                }
            }
            CompiledMerge c = new CompiledMerge(merges.size(), m.method(), lease, values, byBlock, inputs);
            merges.add(c);
            leased = true;
            return c;
        } finally {
            if (!leased) {
                lease.close();
            }
        }
    }

    private static ParameterValues validate(MergeAlgorithm alg, String id, Map<String, Object> raw, String block) {
        try {
            return alg.parameters().validate(raw);
        } catch (InvalidParameterException e) {
            throw new MergeException("method " + id + ": " + e.getMessage()
                    + (block == null ? "" : " (block weight for " + block + ")"), e);
        }
    }

    private MergePlan planKeys(MergeRequest request, List<Path> paths, List<TensorSource> sources,
                               List<CompiledMerge> merges, CompiledMerge root, ModelArchitecture arch) {
        Set<String> keys = new LinkedHashSet<>();
        int dropped = 0;
        Set<String> droppedNames = new HashSet<>();
        for (TensorSource s : sources) {
            for (TensorInfo t : s.tensors()) {
                if (!request.keepEma() && t.name().startsWith("model_ema.")) {
                    if (droppedNames.add(t.name())) {
                        dropped++;
                    }
                    continue;
                }
                keys.add(t.name());
            }
        }
        BlockMapper mapper = arch.layout().map(BlockMapper::new).orElse(null);
        Map<String, int[]> missing = new LinkedHashMap<>();
        Map<String, String> missingExample = new LinkedHashMap<>();
        List<KeyTask> tasks = new ArrayList<>();
        List<TensorInfo> out = new ArrayList<>();
        for (String key : keys) {
            KeyPlan plan = analyze(root, key, sources, paths, missing, missingExample);
            if (plan == null) {
                continue;
            }
            DType outType = plan.dtype();
            if (plan.dtype().isFloatingPoint()) {
                if (request.outputDType() != null) {
                    outType = request.outputDType();
                }
                if (!TensorArrays.computable(outType) && !(plan instanceof KeyPlan.Read)) {
                    throw new MergeException("key '" + key + "' is stored as " + outType + ", which Easel cannot merge");
                }
                if (!TensorArrays.computable(outType) || !TensorArrays.computable(plan.dtype())) {
                    outType = plan.dtype();
                }
            }
            TensorInfo info = new TensorInfo(key, outType, plan.shape());
            tasks.add(new KeyTask(info, mapper == null ? "" : mapper.blockOf(key), plan));
            out.add(info);
        }
        List<String> warnings = new ArrayList<>();
        for (Map.Entry<String, int[]> e : missing.entrySet()) {
            warnings.add(e.getValue()[0] + " key(s) " + e.getKey() + " (e.g. '" + missingExample.get(e.getKey())
                    + "'); taken from the first input that has them");
        }
        if (dropped > 0) {
            warnings.add(dropped + " EMA key(s) (model_ema.*) dropped; pass --keep-ema to keep them");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put(RECIPE_METADATA_KEY, RecipeJson.toMetadata(request));
        return new MergePlan(request, sources, merges, tasks, new WritePlan(out, metadata), warnings, arch, dropped);
    }

    private static KeyPlan analyze(Object node, String key, List<TensorSource> sources, List<Path> paths,
                                   Map<String, int[]> missing, Map<String, String> missingExample) {
        if (node instanceof Integer src) {
            return sources.get(src).info(key).map(t -> (KeyPlan) new KeyPlan.Read(src, t.dtype(), t.shape()))
                    .orElse(null);
        }
        CompiledMerge m = (CompiledMerge) node;
        List<KeyPlan> ins = new ArrayList<>();
        KeyPlan firstPresent = null;
        for (Object in : m.inputs) {
            KeyPlan p = analyze(in, key, sources, paths, missing, missingExample);
            ins.add(p);
            if (firstPresent == null && p != null) {
                firstPresent = p;
            }
        }
        if (firstPresent == null) {
            return null;
        }
        for (int i = 0; i < ins.size(); i++) {
            if (ins.get(i) == null) {
                String what = "are missing from input " + inputName(m, i) + " (" + describe(m.inputs.get(i), paths)
                        + ") of " + m.label();
                missing.computeIfAbsent(what, w -> new int[1])[0]++;
                missingExample.putIfAbsent(what, key);
            }
        }
        if (ins.contains(null)) {
            return firstPresent;
        }
        KeyPlan first = ins.get(0);
        if (!first.dtype().isFloatingPoint()) {
            return first;
        }
        boolean inpaint = false;
        for (int i = 1; i < ins.size(); i++) {
            KeyPlan p = ins.get(i);
            if (!p.dtype().isFloatingPoint() || !TensorArrays.computable(p.dtype())
                    || !TensorArrays.computable(first.dtype())) {
                throw new MergeException("key '" + key + "' is " + first.dtype() + " in "
                        + describe(m.inputs.get(0), paths) + " but " + p.dtype() + " in "
                        + describe(m.inputs.get(i), paths) + "; Easel merges F64, F32, F16 and BF16 tensors only");
            }
            if (Arrays.equals(first.shape(), p.shape())) {
                continue;
            }
            int channels = channelMismatch(first.shape(), p.shape());
            if (channels > 0 && (i == 1 || inpaint) && allSame(ins.subList(1, ins.size()))) {
                inpaint = true;
                continue;
            }
            String hint = channels < 0 ? "; for an inpainting or instruct-pix2pix merge the 9- or 8-channel model "
                    + "must be the first input (A)" : "";
            throw new MergeException("shape mismatch for key '" + key + "': " + Arrays.toString(first.shape())
                    + " in " + describe(m.inputs.get(0), paths) + " but " + Arrays.toString(p.shape()) + " in "
                    + describe(m.inputs.get(i), paths) + hint);
        }
        return new KeyPlan.Apply(m, ins, inpaint, first.dtype(), first.shape());
    }

    /** 1 if {@code a} is a 9/8-channel conv and {@code b} its 4-channel twin, -1 the other way round, else 0. */
    private static int channelMismatch(long[] a, long[] b) {
        if (a.length != 4 || b.length != 4 || a[0] != b[0] || a[2] != b[2] || a[3] != b[3]) {
            return 0;
        }
        if ((a[1] == 9 || a[1] == 8) && b[1] == 4) {
            return 1;
        }
        if ((b[1] == 9 || b[1] == 8) && a[1] == 4) {
            return -1;
        }
        return 0;
    }

    private static boolean allSame(List<KeyPlan> plans) {
        return plans.stream().allMatch(p -> Arrays.equals(p.shape(), plans.get(0).shape()));
    }

    private static String inputName(CompiledMerge m, int i) {
        List<String> roles = m.algorithm().inputs();
        String role = i < roles.size() ? roles.get(i) : "model " + (i + 1);
        return role.toUpperCase(java.util.Locale.ROOT);
    }

    private static String describe(Object node, List<Path> paths) {
        if (node instanceof Integer src) {
            return paths.get(src).toString();
        }
        return "the result of " + ((CompiledMerge) node).label();
    }
}
