//! Data sets, loaders, task catalog, splits and preprocessing.
