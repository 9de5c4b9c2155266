package dev.easel.core.sd.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSource;
import dev.easel.core.sd.nn.ParamKind;
import dev.easel.core.sd.nn.WeightSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * Parameters read from any {@link TensorSource} (whatever {@code ModelFormat} opened it) in the ldm key layout,
 * converted to float32. A missing key or a wrong shape fails at once naming the key and the file;
 * {@link #checkNoExtraKeys} then names keys of the networks' prefixes that no network took.
 *
 * <p>With {@code planOnly}, shapes and dtypes are checked against the file's header but nothing is read: this is how
 * a full-size checkpoint's layout is verified without memory.
 */
public final class CheckpointWeights implements WeightSource {
    private final TensorSource source;
    private final NDManager manager;
    private final boolean planOnly;
    private final Set<String> used = new HashSet<>();

    public CheckpointWeights(TensorSource source, NDManager manager, boolean planOnly) {
        this.source = source;
        this.manager = manager;
        this.planOnly = planOnly;
    }

    @Override
    public boolean planning() {
        return planOnly;
    }

    /** The ldm key as stored, or the spelling older checkpoints use (before transformers added {@code text_model.}). */
    private Optional<TensorInfo> find(String key) {
        Optional<TensorInfo> info = source.info(key);
        if (info.isEmpty() && key.startsWith("cond_stage_model.transformer.text_model.")) {
            info = source.info("cond_stage_model.transformer." + key.substring(
                    "cond_stage_model.transformer.text_model.".length()));
        }
        return info;
    }

    @Override
    public boolean has(String key) {
        return find(key).isPresent();
    }

    @Override
    public NDArray tensor(String key, long[] shape, ParamKind kind) {
        return tensor(key, null, shape, kind);
    }

    @Override
    public NDArray tensor(String key, String alias, long[] shape, ParamKind kind) {
        Optional<TensorInfo> found = find(key);
        boolean viaAlias = false;
        if (found.isEmpty() && alias != null) {
            found = source.info(alias);
            viaAlias = found.isPresent();
        }
        TensorInfo info = found.orElseThrow(() -> fail("missing tensor '" + key + "'"
                + (alias != null && source.tensors().stream().anyMatch(t -> t.name().startsWith(alias.substring(0,
                alias.indexOf('.') + 1))) ? " (diffusers: '" + alias + "')" : "")
                + " (the network needs " + Arrays.toString(shape) + ")"));
        long[] have = info.shape();
        // diffusers stores the VAE's 1x1-conv attention projections as linear [C, C]
        boolean squeezed = viaAlias && have.length < shape.length && info.elementCount() == Arrays.stream(shape)
                .reduce(1, Math::multiplyExact) && Arrays.equals(have, Arrays.copyOf(shape, have.length));
        if (!Arrays.equals(have, shape) && !squeezed) {
            throw fail("tensor '" + info.name() + "' has shape " + Arrays.toString(have) + ", the network needs "
                    + Arrays.toString(shape) + " (wrong config for this checkpoint?)");
        }
        if (!TensorReads.readable(info.dtype())) {
            throw fail("tensor '" + info.name() + "' is " + info.dtype() + "; network weights must be F32, F16, "
                    + "BF16 or F64");
        }
        used.add(info.name());
        if (planOnly) {
            return null;
        }
        try {
            return TensorReads.toFloat32(manager, source.read(info.name()), info.dtype(), new Shape(shape));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Fails naming the first keys under {@code prefixes} that no network took, unless {@code ignorable} accepts them
     * (EMA copies, schedule buffers, {@code position_ids}, ...).
     */
    public void checkNoExtraKeys(List<String> prefixes, Predicate<String> ignorable) {
        Set<String> extra = new TreeSet<>();
        for (TensorInfo t : source.tensors()) {
            String n = t.name();
            if (!used.contains(n) && !ignorable.test(n) && prefixes.stream().anyMatch(n::startsWith)) {
                extra.add(n);
            }
        }
        if (!extra.isEmpty()) {
            List<String> first = new ArrayList<>(extra).subList(0, Math.min(3, extra.size()));
            throw fail("unexpected tensor" + (extra.size() > 1 ? "s " : " ") + String.join(", ", first)
                    + (extra.size() > 3 ? " and " + (extra.size() - 3) + " more" : "")
                    + " (a different architecture, or a config that does not match the checkpoint)");
        }
    }

    private ModelLoadException.Unchecked fail(String problem) {
        return new ModelLoadException.Unchecked(new ModelLoadException(source.location(), problem));
    }
}
