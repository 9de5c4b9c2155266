package dev.easel.core.train.loop;

import ai.djl.pytorch.jni.JniUtils;

/**
 * Autograd mode of the calling thread. libtorch's grad mode is per thread and on by default in new threads; the
 * loop turns it off so that optimiser updates may write into trainable leaves, and DJL's gradient collector turns
 * it on only while the loss is computed.
 */
final class Autograd {
    private Autograd() {
    }

    static void disableOnThisThread() {
        JniUtils.setGradMode(false);
    }
}
