package dev.easel.core.testplugins;

import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;

/** An activator that fails, as a buggy plugin's would. */
public final class ThrowingActivator implements BundleActivator {
    @Override
    public void start(BundleContext context) {
        throw new IllegalStateException("boom from the activator");
    }

    @Override
    public void stop(BundleContext context) {
    }
}
