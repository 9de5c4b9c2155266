package dev.easel.core.train.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.api.training.NetworkHooks;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A {@link DiffusionModel} that forwards every call to another one; subclasses override what they observe or change
 * (a test probe evaluating the model when the job closes it). Forwarding the defaulted methods too matters: a
 * wrapper that let {@link #stepManager} or {@link #setTraining} fall back to the interface's no-op would silently
 * keep a step's activations alive or switch dropout off.
 */
public abstract class ForwardingDiffusionModel implements DiffusionModel {
    private final DiffusionModel delegate;

    protected ForwardingDiffusionModel(DiffusionModel delegate) {
        this.delegate = delegate;
    }

    /** The model calls are forwarded to. */
    protected DiffusionModel delegate() {
        return delegate;
    }

    @Override
    public NetworkHooks hooks() {
        return delegate.hooks();
    }

    @Override
    public String vaeIdentity() {
        return delegate.vaeIdentity();
    }

    @Override
    public int latentScale() {
        return delegate.latentScale();
    }

    @Override
    public NDArray encodeImages(NDArray pixels) {
        return delegate.encodeImages(pixels);
    }

    @Override
    public NDArray encodeText(List<String> prompts) {
        return delegate.encodeText(prompts);
    }

    @Override
    public NDArray predict(NDArray noisyLatents, NDArray timesteps, NDArray context) {
        return delegate.predict(noisyLatents, timesteps, context);
    }

    @Override
    public Map<String, String> provenance() {
        return delegate.provenance();
    }

    @Override
    public void stepManager(NDManager manager) {
        delegate.stepManager(manager);
    }

    @Override
    public String predictionType() {
        return delegate.predictionType();
    }

    @Override
    public void setTraining(boolean training) {
        delegate.setTraining(training);
    }

    @Override
    public Optional<PreviewSampler> sampler() {
        return delegate.sampler();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
