"""Fixtures shared by the shard tests."""

import pytest


@pytest.fixture(scope="module")
def s3_endpoint():
    """A moto S3 server on loopback, its endpoint and test credentials in the standard AWS variables."""
    import s3fs
    from moto import server as moto_server

    s3fs.S3FileSystem.clear_instance_cache()  # fsspec caches filesystems, with another server's endpoint
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    patch = pytest.MonkeyPatch()
    for name, value in {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
    }.items():  # fmt: skip
        patch.setenv(name, value)
    try:
        yield f"http://{host}:{port}"
    finally:
        patch.undo()
        server.stop()
        s3fs.S3FileSystem.clear_instance_cache()
