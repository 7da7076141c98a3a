#!/bin/sh
echo tick
