package dev.easel.core.sd.nn;

import ai.djl.ndarray.NDArray;
import dev.easel.api.model.BaseModule;
import dev.easel.api.model.Component;
import dev.easel.api.model.ModuleKind;
import dev.easel.api.model.NetworkModule;
import dev.easel.api.training.ModuleWrapper;

/**
 * A weight-bearing module: its checkpoint names, its parameters, its computation, and the wrapper a training method
 * may install in front of it. Parameters are plain NDArrays; a method makes one trainable with
 * {@link NDArray#setRequiresGradient(boolean)} (see {@link #trainable}).
 */
public abstract class Layer implements NetworkModule, BaseModule {
    private final Component component;
    private final ModuleKind kind;
    private final String ldmName;
    private final String diffusersName;
    private final long[] weightShape;
    private final boolean hasBias;
    private final NetworkState state;
    protected NDArray weight;
    protected NDArray bias;
    private ModuleWrapper wrapper;

    protected Layer(Spec spec, ModuleKind kind, long[] weightShape, boolean hasBias, WeightSource source,
                    ParamKind weightKind, ParamKind biasKind) {
        this.component = spec.component();
        this.kind = kind;
        this.ldmName = spec.ldmName();
        this.diffusersName = spec.diffusersName();
        this.weightShape = weightShape.clone();
        this.hasBias = hasBias;
        this.state = spec.state();
        String alias = diffusersPrefix(component) + diffusersName;
        this.weight = source.tensor(ldmName + ".weight", alias + ".weight", weightShape, weightKind);
        this.bias = hasBias ? source.tensor(ldmName + ".bias", alias + ".bias", new long[] {weightShape[0]}, biasKind)
                : null;
    }

    /** The key prefix of a component in a diffusers folder read as one tensor source. */
    public static String diffusersPrefix(Component c) {
        return switch (c) {
            case UNET -> "unet.";
            case VAE -> "vae.";
            case TEXT_ENCODER -> "text_encoder.";
            case TEXT_ENCODER_2 -> "text_encoder_2.";
        };
    }

    /** Layers whose parameters come from elsewhere (split OpenCLIP projections). */
    protected Layer(Spec spec, ModuleKind kind, long[] weightShape, NDArray weight, NDArray bias) {
        this.component = spec.component();
        this.kind = kind;
        this.ldmName = spec.ldmName();
        this.diffusersName = spec.diffusersName();
        this.weightShape = weightShape.clone();
        this.hasBias = bias != null || (weight == null && spec.planBias());
        this.state = spec.state();
        this.weight = weight;
        this.bias = bias;
    }

    /** Names and shared state of a layer under construction. */
    public record Spec(Component component, String ldmName, String diffusersName, NetworkState state,
                       boolean planBias) {
        public Spec(Component component, String ldmName, String diffusersName, NetworkState state) {
            this(component, ldmName, diffusersName, state, false);
        }
    }

    /** The layer's output, through its wrapper if one is installed. */
    public final NDArray apply(NDArray x) {
        ModuleWrapper w = wrapper;
        return w == null ? compute(x, weight, bias) : w.forward(x, this, state.training());
    }

    /** The computation with given parameters. */
    protected abstract NDArray compute(NDArray x, NDArray w, NDArray b);

    @Override
    public NDArray forward(NDArray x) {
        return compute(x, weight, bias);
    }

    @Override
    public NDArray forward(NDArray x, NDArray w, NDArray b) {
        return compute(x, w, b);
    }

    /** Installs (or, with {@code null}, removes) the wrapper of this layer. */
    public void wrap(ModuleWrapper w) {
        if (w != null && kind != ModuleKind.LINEAR && kind != ModuleKind.CONV2D) {
            throw new IllegalArgumentException(ldmName + " is a " + kind + " module; only linear and conv modules "
                    + "can be wrapped");
        }
        if (w != null && wrapper != null) {
            throw new IllegalStateException(ldmName + " is already wrapped");
        }
        this.wrapper = w;
    }

    public ModuleWrapper wrapper() {
        return wrapper;
    }

    /** Marks weight and bias as trainable and returns them. */
    public java.util.List<NDArray> trainable() {
        weight.setRequiresGradient(true);
        if (bias == null) {
            return java.util.List.of(weight);
        }
        bias.setRequiresGradient(true);
        return java.util.List.of(weight, bias);
    }

    /** Replaces the parameters (same shapes), for loading other weights into a built network. */
    public void setParameters(NDArray newWeight, NDArray newBias) {
        this.weight = newWeight;
        this.bias = newBias;
    }

    @Override
    public NetworkModule info() {
        return this;
    }

    @Override
    public NDArray weight() {
        return weight;
    }

    @Override
    public NDArray bias() {
        return bias;
    }

    @Override
    public Component component() {
        return component;
    }

    @Override
    public ModuleKind kind() {
        return kind;
    }

    @Override
    public String ldmName() {
        return ldmName;
    }

    @Override
    public String diffusersName() {
        return diffusersName;
    }

    @Override
    public long[] weightShape() {
        return weightShape.clone();
    }

    @Override
    public boolean hasBias() {
        return hasBias;
    }

    @Override
    public String toString() {
        return kind + " " + ldmName + java.util.Arrays.toString(weightShape);
    }
}
