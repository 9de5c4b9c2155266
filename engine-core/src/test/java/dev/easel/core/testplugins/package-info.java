/**
 * Classes packed into bundle jars at test time by {@link dev.easel.core.osgi.TestBundles}. They are never
 * registered from the test class path itself: inside a bundle they are loaded by the bundle's class loader, which
 * is what the host tests exercise.
 */
package dev.easel.core.testplugins;
