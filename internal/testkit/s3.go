package testkit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3 is an in-memory bucket with S3's conditional writes (If-None-Match
// and If-Match on the ETag) and its NoSuchKey. The zero value is empty.
type S3 struct {
	mu       sync.Mutex
	objects  map[string][]byte
	versions map[string]int
}

func (m *S3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.objects == nil {
		m.objects, m.versions = map[string][]byte{}, map[string]int{}
	}
	key := aws.ToString(in.Key)
	_, exists := m.objects[key]
	if exists && aws.ToString(in.IfNoneMatch) == "*" {
		return nil, &smithy.GenericAPIError{Code: "PreconditionFailed"}
	}
	if in.IfMatch != nil && (!exists || aws.ToString(in.IfMatch) != m.etag(key)) {
		return nil, &smithy.GenericAPIError{Code: "PreconditionFailed"}
	}
	body, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	m.objects[key] = body
	m.versions[key]++
	return &s3.PutObjectOutput{ETag: aws.String(m.etag(key))}, nil
}

func (m *S3) etag(key string) string { return fmt.Sprintf(`"v%d"`, m.versions[key]) }

func (m *S3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	body, ok := m.objects[aws.ToString(in.Key)]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "NoSuchKey", Message: "The specified key does not exist."}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(body)), ETag: aws.String(m.etag(aws.ToString(in.Key)))}, nil
}

// ListObjectsV2 answers in one page: the tests' buckets are small.
func (m *S3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for k := range m.objects {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := &s3.ListObjectsV2Output{}
	for _, k := range keys {
		out.Contents = append(out.Contents, s3types.Object{Key: aws.String(k)})
	}
	return out, nil
}

// Keys lists the bucket's keys under prefix, sorted.
func (m *S3) Keys(prefix string) []string {
	out, _ := m.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Prefix: aws.String(prefix)})
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}
