package dev.easel.core.sd.nn;

/** State shared by every layer of a model: whether it runs in training mode (what wrappers receive). */
public final class NetworkState {
    private volatile boolean training;

    public boolean training() {
        return training;
    }

    public void setTraining(boolean training) {
        this.training = training;
    }
}
