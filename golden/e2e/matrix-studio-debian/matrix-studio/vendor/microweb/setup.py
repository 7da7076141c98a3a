from setuptools import setup

setup(name="microweb", version="0.1.0", packages=["microweb"])
