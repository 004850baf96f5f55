import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """The machine's cores are shared; one thread also keeps float results independent of the core count."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
