package dev.easel.core.train.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.training.DatasetRole;
import dev.easel.api.training.TrainingStep;
import dev.easel.core.train.model.DiffusionModel;
import java.util.List;

/** One micro-batch as the method sees it; the diffusion loss is computed once, on demand. */
final class EngineTrainingStep implements TrainingStep {
    private final long index;
    private final long seed;
    private final NDArray latents;
    private final List<String> captions;
    private final List<DatasetRole> roles;
    private final List<Boolean> reg;
    private final NDArray timesteps;
    private final NDArray noise;
    private final NDArray perturbation;
    private final DiffusionModel model;
    private final NoiseSchedule schedule;
    private final LossOptions options;
    private NDArray loss;

    EngineTrainingStep(long index, long seed, NDArray latents, List<String> captions, List<DatasetRole> roles,
                       List<Boolean> reg, StepNoise draws, DiffusionModel model, NoiseSchedule schedule,
                       LossOptions options) {
        this.index = index;
        this.seed = seed;
        this.latents = latents;
        this.captions = List.copyOf(captions);
        this.roles = List.copyOf(roles);
        this.reg = List.copyOf(reg);
        NDManager m = latents.getManager();
        Shape shape = latents.getShape();
        this.timesteps = m.create(draws.timesteps());
        this.noise = m.create(draws.noise(), shape);
        this.perturbation = draws.perturbation() == null ? null : m.create(draws.perturbation(), shape);
        this.model = model;
        this.schedule = schedule;
        this.options = options;
    }

    @Override
    public long index() {
        return index;
    }

    @Override
    public long seed() {
        return seed;
    }

    @Override
    public NDArray latents() {
        return latents;
    }

    @Override
    public List<String> captions() {
        return captions;
    }

    @Override
    public List<DatasetRole> roles() {
        return roles;
    }

    @Override
    public NDArray timesteps() {
        return timesteps;
    }

    @Override
    public NDArray noise() {
        return noise;
    }

    @Override
    public NDArray perSampleDiffusionLoss() {
        if (loss == null) {
            loss = lossUnder(captions);
        }
        return loss;
    }

    @Override
    public NDArray perSampleDiffusionLoss(List<String> prompts) {
        if (prompts.size() != captions.size()) {
            throw new IllegalArgumentException(prompts.size() + " prompts for a batch of " + captions.size());
        }
        return prompts.equals(captions) ? perSampleDiffusionLoss() : lossUnder(List.copyOf(prompts));
    }

    private NDArray lossUnder(List<String> prompts) {
        NDArray inputNoise = perturbation == null ? noise : noise.add(perturbation);
        NDArray noisy = schedule.addNoise(latents, inputNoise, timesteps);
        NDArray context = model.encodeText(prompts);
        NDArray prediction = model.predict(noisy, timesteps, context);
        return DiffusionLoss.perSample(schedule, options, prediction, latents, noise, timesteps, reg);
    }

    @Override
    public NDArray predictNoise(NDArray noisyLatents, NDArray timesteps, NDArray context) {
        return model.predict(noisyLatents, timesteps, context);
    }
}
