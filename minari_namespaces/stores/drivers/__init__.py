"""The drivers: how each backend reads and writes the bytes of a store.

- :mod:`~minari_namespaces.stores.drivers.driver`: the driver contract, ``Driver``;
- :mod:`~minari_namespaces.stores.drivers.fsspec_driver`: the generic fsspec driver,
  the asynchronous one and the object stores' common part;
- :mod:`~minari_namespaces.stores.drivers.async_files`: a dataset's small files as
  coroutines on an asynchronous filesystem's loop (read ahead, written behind);
- one driver module per backend with more to offer: ``s3``, ``gcs``, ``azure``,
  ``file``, and the package ``hub`` (the Hugging Face Hub, which implements the
  contract directly);
- :mod:`~minari_namespaces.stores.drivers.status`: what each HTTP status means, for
  every driver; :mod:`~minari_namespaces.stores.drivers.retry`: how long to wait.

A driver is picked by protocol from
:data:`minari_namespaces.stores.fsspec.DRIVERS`; nothing here imports a backend's
package before it is used.
"""
